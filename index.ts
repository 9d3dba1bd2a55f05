// The package's main entry (`import { Runtime, defineActor } from 'troupe'`): the kernel's public API, the system
// module contract of `troupe start`, and, as the capability folders land, theirs. Parts users import on their own
// have subpath exports instead (package.json "exports": `troupe/ops`, later `troupe/testkit`, `troupe/model-server`).
export * from './runtime/index.ts';
export * from './supervisors/index.ts';
export { defineSystem, type SystemDefinition, type SystemContext } from './ops/system.ts';
export type { ServiceConfig } from './ops/config.ts';
// Capability folders, one line each as they land:
// export * from './router/index.ts';
