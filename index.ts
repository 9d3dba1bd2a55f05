// The package's main entry (`import { Runtime, defineActor } from 'troupe'`).
export * from './runtime/index.ts';
export * from './router/index.ts';
