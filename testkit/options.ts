import type { FaultPlan } from './faults.ts';
import { InvalidSimulationOptionError } from './errors.ts';
import type { Simulation } from './simulation.ts';

export interface SimulationOptions {
  /** Every choice of the run comes from this seed: the same seed (and plan) replays the same run. */
  seed: number;
  /** Faults to inject (testkit/faults.ts). Every actor named must exist once `setup` has run. */
  faults?: FaultPlan;
  /**
   * Simulated worker threads (default 0: every actor on the main thread). With N > 0 the runtime places actors on
   * threads 1..N by its own rules, posts between threads land when the seed says, and a thread can be lost.
   */
  threads?: number;
  /** Steps a run may take before StepBudgetExceededError (default 1,000,000). */
  maxSteps?: number;
  /** Virtual time a run may reach before TimeBudgetExceededError (default 24 h). */
  maxVirtualMs?: number;
  /** Each message lands up to this many virtual ms after it is sent, drawn from the seed (default 0). */
  maxDeliveryDelayMs?: number;
  /**
   * Durable actors: true, real LMDB in a temporary directory (removed by stop()); `{ dataDir }`, LMDB there (kept);
   * 'memory', the in-memory store with LMDB's guarantees (testkit/memory-store.ts: no disk, no real I/O, faster).
   */
  durable?: boolean | { dataDir: string } | 'memory';
  /** Builds the system: run at start and again after every simulated crash of the whole system. */
  setup?: (sim: Simulation) => Promise<void>;
  /** Trace events kept for the timeline (the hash covers all of them; default 10,000). */
  traceKeep?: number;
}

/** The most simulated threads a run may have (as Runtime.start's workers). */
const MAX_THREADS = 64;

/** A bad option is a named error before anything runs. */
export function validateOptions(options: SimulationOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidSimulationOptionError('Simulation.start expects options with a seed');
  if (!Number.isInteger(options.seed)) throw new InvalidSimulationOptionError(`seed must be an integer (got ${String(options.seed)})`);
  for (const k of ['maxSteps', 'maxVirtualMs', 'maxDeliveryDelayMs'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new InvalidSimulationOptionError(`${k} must be a non-negative number (got ${String(v)})`);
  }
  const d = options.durable;
  if (d !== undefined && typeof d !== 'boolean' && d !== 'memory' && !(typeof d === 'object' && d !== null && typeof d.dataDir === 'string')) {
    throw new InvalidSimulationOptionError(`durable must be true, false, 'memory' or { dataDir } (got ${JSON.stringify(d)})`);
  }
  const t = options.threads;
  if (t !== undefined && !(Number.isInteger(t) && t >= 0 && t <= MAX_THREADS)) throw new InvalidSimulationOptionError(`threads must be an integer from 0 to ${MAX_THREADS} (got ${String(t)})`);
}
