// The package's main entry (`import { Runtime, defineActor } from 'troupe'`): the kernel's public API, the system
// module contract of `troupe start`, and the capability folders built on the kernel. Parts users import on their
// own have subpath exports instead (package.json "exports": `troupe/ops`, `troupe/agents`, `troupe/model-server`).
export * from './runtime/index.ts';
export * from './supervisors/index.ts';
export { defineSystem, type SystemDefinition, type SystemContext } from './ops/system.ts';
export type { ServiceConfig } from './ops/config.ts';
export * from './router/index.ts';
import './tasks/install.ts'; // runtime.tasks
export * from './tasks/index.ts';
