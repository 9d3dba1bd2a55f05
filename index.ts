// The package's main entry (`import { Runtime, defineActor } from 'troupe'`): the kernel's public API and, as the
// capability folders land, theirs. Parts users import on their own have subpath exports instead (package.json
// "exports": `troupe/ops`, later `troupe/testkit`, `troupe/model-server`).
export * from './runtime/index.ts';
export * from './supervisors/index.ts';
// Capability folders, one line each as they land:
// export * from './router/index.ts';
