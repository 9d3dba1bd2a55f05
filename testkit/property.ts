import fc from 'fast-check';
import { errorClass } from '../runtime/errors.ts';
import { Simulation, type SimulationOptions } from './simulation.ts';
import { MODEL_FAULT_KINDS, printPlan, type Fault, type ModelFaultKind } from './faults.ts';

/** A simulation property failed: the message carries the seed, the path, the minimal case and the replay line. */
export class SimulationPropertyError extends errorClass('ERR_SIM_PROPERTY') {}

/** What a property gets besides its input: the run's seed and a start() that uses it (and stops the sims after). */
export interface SimRun {
  seed: number;
  start(options?: Omit<SimulationOptions, 'seed'>): Promise<Simulation>;
}

export interface SimCheckOptions {
  /** Runs (default TROUPE_FC_RUNS, else 100). */
  numRuns?: number;
  /** Replay one case exactly: the `{"seed":...,"path":"..."}` a failure report printed (or env TROUPE_SIM_REPLAY). */
  replay?: string;
  /** fast-check's seed for the whole check (default: random, or TROUPE_FC_SEED). */
  seed?: number;
  /** How the replay line names this check (default 'simCheck'). */
  name?: string;
  /** Lines of the failing run's timeline to print (default 40). */
  timelineLines?: number;
}

interface Case<I> {
  seed: number;
  input: I;
}

/**
 * Run `property` over whole simulations: each run draws a simulation seed and an input (a fault plan, a message
 * sequence...), fast-check shrinks a failure to its smallest case, and the error printed says how to replay it
 * exactly (seed and path), what the minimal case is, and how the failing run went (its timeline and trace hash,
 * from one more run of the minimal case, which must fail the same way).
 */
export async function simCheck<I>(input: fc.Arbitrary<I>, property: (input: I, run: SimRun) => Promise<void | boolean>, options: SimCheckOptions = {}): Promise<void> {
  const replayText = options.replay ?? process.env.TROUPE_SIM_REPLAY;
  const replay = replayText === undefined || replayText === '' ? undefined : (JSON.parse(replayText) as { seed: number; path: string });
  const arb = fc.record({ seed: fc.integer({ min: 0, max: 0x7fffffff }), input }) as fc.Arbitrary<Case<I>>;
  let last: Simulation[] = [];
  const runOnce = async (c: Case<I>): Promise<void | boolean> => {
    const sims: Simulation[] = [];
    last = sims;
    const run: SimRun = {
      seed: c.seed,
      start: async (opts = {}) => {
        const sim = await Simulation.start({ ...opts, seed: c.seed });
        sims.push(sim);
        return sim;
      },
    };
    try {
      return await property(c.input, run);
    } finally {
      for (const s of sims) await s.stop().catch(() => undefined);
    }
  };
  const envSeed = process.env.TROUPE_FC_SEED === undefined ? undefined : Number(process.env.TROUPE_FC_SEED);
  const details = await fc.check(fc.asyncProperty(arb, runOnce), {
    numRuns: options.numRuns ?? Number(process.env.TROUPE_FC_RUNS ?? 100),
    ...(replay !== undefined ? { seed: replay.seed, path: replay.path, endOnFailure: true } : {}),
    ...(replay === undefined && (options.seed ?? envSeed) !== undefined ? { seed: options.seed ?? envSeed } : {}),
  });
  if (!details.failed) return;
  const minimal = details.counterexample?.[0] as Case<I> | undefined;
  const replayLine = JSON.stringify({ seed: details.seed, path: details.counterexamplePath });
  // One more run of the minimal case, for its timeline (the sims of that run are kept until printed).
  let timeline = '';
  let hash = '';
  if (minimal !== undefined) {
    const again = await runOnce(minimal).then((ok) => (ok === false ? 'failed (returned false)' : 'passed'), (e: unknown) => `failed: ${firstLine(e)}`);
    const sim = last[last.length - 1];
    if (sim !== undefined) {
      hash = sim.hash();
      const lines = sim.timeline().split('\n');
      timeline = lines.slice(-(options.timelineLines ?? 40)).join('\n');
    }
    if (again === 'passed') timeline = `(the minimal case passed when run again: the property is not deterministic)\n${timeline}`;
  }
  const name = options.name ?? 'simCheck';
  const message = [
    `simulation property failed after ${details.numRuns} run(s), shrunk ${details.numShrinks} time(s): ${cause(details.errorInstance)}`,
    `minimal case: seed ${minimal?.seed} input ${render(minimal?.input)}`,
    `replay: TROUPE_SIM_REPLAY='${replayLine}' npx vitest run <this test file>   (or ${name}(..., { replay: '${replayLine}' }))`,
    ...(hash ? [`trace hash of the minimal run: ${hash}; its last events:`, timeline] : []),
  ].join('\n');
  throw new SimulationPropertyError(message, {
    cause: details.errorInstance,
    details: { seed: details.seed, path: details.counterexamplePath, replay: replayLine, minimal: render(minimal?.input), simSeed: minimal?.seed, hash },
  });
}

function cause(e: unknown): string {
  const s = String((e as Error)?.message ?? e);
  return s.length > 2000 ? `${s.slice(0, 2000)}...` : s;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

function render(v: unknown): string {
  return Array.isArray(v) && v.every((f) => typeof f === 'object' && f !== null && 'kind' in f) ? printPlan(v as Fault[])
    : JSON.stringify(v, (_k, x) => (typeof x === 'function' ? '<predicate>' : x)) ?? String(v);
}

// ---- arbitraries ----------------------------------------------------------------------------------------------------

export interface FaultArbitraryOptions {
  /** Actor ids faults may name. */
  actors: readonly string[];
  /** Kinds to draw (default crash, init-throw, stall, delay). crash-system, store-fail and commit-fail need a durable system. */
  kinds?: ReadonlyArray<Exclude<Fault['kind'], 'crash-if'>>;
  maxFaults?: number;
  /** Largest message number a crash or stall names (default 20). */
  maxMessage?: number;
  /** Longest stall / delay in virtual ms (default 2000). */
  maxMs?: number;
  /** Latest virtual time of a whole-system crash (default 1000). */
  maxAtMs?: number;
  /** Largest LMDB write number a store-fail names (default 20). */
  maxWrite?: number;
  /** Largest commit number a commit-fail names (default 20); given, crash-system also draws { onCommit } faults. */
  maxCommit?: number;
  /** Simulated threads a lose-thread fault may name (default 1; kind 'lose-thread': on an actor's k-th message, or a thread at a time). */
  threads?: number;
  /** Kind 'model-error': the model API faults to draw (default all four) and the largest request number (default 10). */
  modelErrors?: readonly ModelFaultKind[];
  maxCall?: number;
  /** Agent ids a model-error fault may count the requests of (default: none, the model's requests over all agents). */
  agents?: readonly string[];
}

/** One fault, plain data (printable, replayable). */
export function faultArbitrary(o: FaultArbitraryOptions): fc.Arbitrary<Fault> {
  const actor = fc.constantFrom(...o.actors);
  const msg = fc.integer({ min: 1, max: o.maxMessage ?? 20 });
  const ms = fc.integer({ min: 1, max: o.maxMs ?? 2000 });
  const commit = fc.integer({ min: 1, max: o.maxCommit ?? 20 });
  const crashAt = fc.record({ kind: fc.constant('crash-system' as const), atMs: fc.integer({ min: 0, max: o.maxAtMs ?? 1000 }) });
  const by: Record<string, fc.Arbitrary<Fault>> = {
    crash: fc.record({ kind: fc.constant('crash' as const), actor, onMessage: msg }),
    'crash-on': fc.record({ kind: fc.constant('crash-on' as const), actor, type: fc.string({ minLength: 1, maxLength: 4 }), nth: fc.integer({ min: 1, max: 3 }) }),
    'init-throw': fc.record({ kind: fc.constant('init-throw' as const), actor, start: fc.integer({ min: 2, max: 4 }), times: fc.integer({ min: 1, max: 2 }) }),
    stall: fc.record({ kind: fc.constant('stall' as const), actor, onMessage: msg, ms }),
    delay: fc.record({ kind: fc.constant('delay' as const), to: actor, ms }),
    'store-fail': fc.record({ kind: fc.constant('store-fail' as const), onWrite: fc.integer({ min: 1, max: o.maxWrite ?? 20 }) }),
    'commit-fail': fc.record({ kind: fc.constant('commit-fail' as const), onCommit: commit }),
    'crash-system': o.maxCommit === undefined ? crashAt : fc.oneof(crashAt, fc.record({ kind: fc.constant('crash-system' as const), onCommit: commit })),
    'lose-thread': fc.oneof(
      fc.record({ kind: fc.constant('lose-thread' as const), actor, onMessage: msg }),
      fc.record({ kind: fc.constant('lose-thread' as const), thread: fc.integer({ min: 1, max: o.threads ?? 1 }), atMs: fc.integer({ min: 0, max: o.maxAtMs ?? 1000 }) }),
    ),
    'model-error': modelErrorArbitrary(o),
  };
  const kinds = o.kinds ?? ['crash', 'init-throw', 'stall', 'delay'];
  return fc.oneof(...kinds.map((k) => by[k]));
}

/** A model API fault: a 429 with a retry-after of 0-120 s or none, a 529 (half of them inside a stream), a timeout, a prompt too long. */
function modelErrorArbitrary(o: FaultArbitraryOptions): fc.Arbitrary<Fault> {
  const onCall = fc.integer({ min: 1, max: o.maxCall ?? 10 });
  const agent = o.agents !== undefined && o.agents.length > 0 ? fc.option(fc.constantFrom(...o.agents), { nil: undefined }) : fc.constant(undefined);
  const base = (error: ModelFaultKind) => fc.record({ kind: fc.constant('model-error' as const), onCall, error: fc.constant(error), agent });
  const by: Record<ModelFaultKind, fc.Arbitrary<Fault>> = {
    'rate-limit': fc.tuple(base('rate-limit'), fc.option(fc.constantFrom(0, 1, 5, 60, 120), { nil: undefined })).map(([f, s]) => (s === undefined ? f : { ...f, retryAfterS: s })),
    overloaded: fc.tuple(base('overloaded'), fc.boolean()).map(([f, inStream]) => ({ ...f, inStream })),
    timeout: base('timeout'),
    'prompt-too-long': base('prompt-too-long'),
  };
  return fc.oneof(...(o.modelErrors ?? MODEL_FAULT_KINDS).map((k) => by[k])).map((f) => (f.kind === 'model-error' && f.agent === undefined ? (({ agent: _a, ...rest }) => rest)(f) as Fault : f));
}

/** A fault plan: up to `maxFaults` faults (default 3); shrinks toward fewer, earlier, shorter faults. */
export function faultPlanArbitrary(o: FaultArbitraryOptions): fc.Arbitrary<Fault[]> {
  return fc.array(faultArbitrary(o), { maxLength: o.maxFaults ?? 3 });
}

/**
 * Faults at random from a seed, without a property run: the plan `faultPlanArbitrary(o)` draws from `seed` (the same
 * seed, the same plan). For a loop over seeds: `Simulation.start({ seed, faults: randomPlan(seed, o) })`.
 */
export function randomPlan(seed: number, o: FaultArbitraryOptions): Fault[] {
  return fc.sample(faultPlanArbitrary(o), { seed, numRuns: 1 })[0];
}

/** One message of a sequence the test sends. */
export interface PlannedMessage<P = unknown> {
  to: string;
  type: string;
  payload: P;
}

/** A message sequence to actors `to`, each message drawn from `message` (type and payload). */
export function messagesArbitrary<P>(to: readonly string[], message: fc.Arbitrary<{ type: string; payload: P }>, o: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<PlannedMessage<P>[]> {
  return fc.array(fc.record({ to: fc.constantFrom(...to), m: message }).map(({ to: t, m }) => ({ to: t, type: m.type, payload: m.payload })), { minLength: o.minLength ?? 0, maxLength: o.maxLength ?? 20 });
}
