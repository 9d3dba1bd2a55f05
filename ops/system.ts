import type { Runtime } from '../runtime/runtime.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ServiceConfig } from './config.ts';
import { SystemModuleError } from './service-errors.ts';

/** What a system's hooks get besides the runtime. */
export interface SystemContext {
  /** The configuration the service runs with (flags over environment over config file over the system's defaults). */
  readonly config: ServiceConfig;
  /** Aborted when the service starts draining (a signal, or the end of `run`): long loops should stop on it. */
  readonly signal: AbortSignal;
  /** The service's logger (pino, level from config). */
  readonly log: Logger;
  /** Print one line of progress on stdout (`troupe <name>: <line>`). */
  progress(line: string): void;
  /** Where the ops server listens (undefined with `--no-ops`). */
  readonly opsUrl: string | undefined;
}

/**
 * A system: how it starts (its supervision trees and setup) and, optionally, a workload. The module given to
 * `troupe start` exports one, as its default export (`export default defineSystem({...})`) or as named exports
 * `start` (and optionally `run`, `stop`, `name`, `defaults`).
 */
export interface SystemDefinition {
  /** Shown in the service's output (default: the module's file name). */
  readonly name?: string;
  /** Defaults for the configuration; a config file, the environment and flags override them. */
  readonly defaults?: Partial<Pick<ServiceConfig, 'workers' | 'dataDir' | 'graceMs' | 'opsPort' | 'logLevel'>>;
  /** Build the system: supervise its trees, spawn what it needs. The service is ready once this resolves. */
  start(runtime: Runtime, context: SystemContext): void | Promise<void>;
  /**
   * The workload, run after start. When it resolves the service drains and exits 0 (1 if it rejects), unless it was
   * started with `--serve`, which keeps it running until a signal. Without `run`, the service runs until a signal.
   */
  run?(runtime: Runtime, context: SystemContext): void | Promise<void>;
  /** Called first when draining, before the runtime stops: stop taking outside work (close listeners, queues). */
  stop?(runtime: Runtime, context: SystemContext): void | Promise<void>;
}

const brand = Symbol.for('troupe.system');

/** Define a system for `troupe start` (checks its shape now, where the mistake is made). */
export function defineSystem<S extends SystemDefinition>(system: S): S {
  const problem = shapeProblem(system);
  if (problem !== undefined) throw new SystemModuleError(`defineSystem: ${problem}`);
  return Object.assign(system, { [brand]: true });
}

/** The system a loaded module exports, or a SystemModuleError saying what is missing. */
export function systemOf(mod: Record<string, unknown>, file: string): SystemDefinition {
  const candidate = (typeof mod.default === 'object' && mod.default !== null ? mod.default : mod) as Partial<SystemDefinition>;
  if (typeof candidate.start !== 'function') {
    throw new SystemModuleError(`${file} exports no system: export default defineSystem({ start(runtime) { ... } }) or export a start(runtime) function`);
  }
  const system: SystemDefinition = {
    name: candidate.name, defaults: candidate.defaults, start: candidate.start, run: candidate.run, stop: candidate.stop,
  };
  const problem = shapeProblem(system);
  if (problem !== undefined) throw new SystemModuleError(`${file}: ${problem}`);
  return system;
}

function shapeProblem(s: Partial<SystemDefinition>): string | undefined {
  if (typeof s !== 'object' || s === null) return 'a system is an object with a start(runtime) function';
  if (typeof s.start !== 'function') return 'start must be a function (runtime, context) => void | Promise<void>';
  for (const hook of ['run', 'stop'] as const) {
    if (s[hook] !== undefined && typeof s[hook] !== 'function') return `${hook} must be a function when given`;
  }
  if (s.name !== undefined && typeof s.name !== 'string') return 'name must be a string when given';
  if (s.defaults !== undefined && (typeof s.defaults !== 'object' || s.defaults === null)) return 'defaults must be an object when given';
  return undefined;
}
