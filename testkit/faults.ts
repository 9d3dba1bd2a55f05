import { InvalidSimulationOptionError, UnknownFaultTargetError } from './errors.ts';

/** The model API faults of a 'model-error' fault. */
export type ModelFaultKind = 'rate-limit' | 'overloaded' | 'timeout' | 'prompt-too-long';
export const MODEL_FAULT_KINDS: readonly ModelFaultKind[] = ['rate-limit', 'overloaded', 'timeout', 'prompt-too-long'];

/**
 * What can go wrong in a simulated run, by plan. Every fault but `crash-if` is plain data, so a plan prints as JSON
 * and a printed plan replays. Message counts are per actor id over all its incarnations, starting at 1.
 */
export type Fault =
  /** The actor's handler throws (an injected crash, before the user's handler runs) on its k-th message. */
  | { kind: 'crash'; actor: string; onMessage: number }
  /** The handler throws on the nth message of this type the actor gets (default: the first). */
  | { kind: 'crash-on'; actor: string; type: string; nth?: number }
  /** The handler throws whenever the predicate says so (not printable: keep it out of replay lines). */
  | { kind: 'crash-if'; actor: string; when: (type: string, payload: unknown, n: number) => boolean }
  /** init throws on the actor's start number `start` (1: its first start, 2: its first restart...; default 2). */
  | { kind: 'init-throw'; actor: string; start?: number; times?: number }
  /** The handler of the k-th message waits `ms` of virtual time before running (a slow call, a stuck tool). */
  | { kind: 'stall'; actor: string; onMessage: number; ms: number }
  /** Deliveries to (and/or from) an actor take `ms` longer; 'test' is the test's own sender. */
  | { kind: 'delay'; to?: string; from?: string; ms: number }
  /** The k-th LMDB write the simulation's store is asked to make (snapshot or journal) fails. */
  | { kind: 'store-fail'; onWrite: number }
  /** The k-th commit of the store (over every thread's handle and incarnation) fails whole: its writes reject, none applied. */
  | { kind: 'commit-fail'; onCommit: number }
  /** The whole system dies at this virtual time and restarts from its durable store (Simulation `setup` runs again). */
  | { kind: 'crash-system'; atMs: number }
  /** The whole system dies during its store's k-th commit (nothing of it applied, none of its writes settle), and restarts. */
  | { kind: 'crash-system'; onCommit: number }
  /** Simulated thread `thread` (1..threads) dies at this virtual time, as a worker thread does on a native crash. */
  | { kind: 'lose-thread'; thread: number; atMs: number }
  /** The simulated thread running `actor` dies as it takes its k-th message (process.exit, a native crash in the handler). */
  | { kind: 'lose-thread'; actor: string; onMessage: number }
  /**
   * The k-th request to a simulated model (sim.model(): testkit/model.ts) fails, or agent `agent`'s k-th request:
   * 'rate-limit' (429, with `retry-after: retryAfterS` when given, else the agent backs off), 'overloaded' (529, or
   * with `inStream` an overloaded_error event inside a streamed 200), 'timeout' (no answer for the endpoint's
   * timeoutMs of virtual time, then the SDK's timeout error), 'prompt-too-long' (the 400 "prompt is too long").
   */
  | { kind: 'model-error'; onCall: number; error: ModelFaultKind; agent?: string; retryAfterS?: number; inStream?: boolean };

export type FaultPlan = readonly Fault[];

const KINDS = new Set(['crash', 'crash-on', 'crash-if', 'init-throw', 'stall', 'delay', 'store-fail', 'commit-fail', 'crash-system', 'lose-thread', 'model-error']);

function positive(fault: Fault, field: string, value: unknown): void {
  if (!(Number.isInteger(value) && (value as number) >= 1)) throw new InvalidSimulationOptionError(`fault ${fault.kind}: ${field} must be an integer >= 1 (got ${String(value)})`);
}
function nonNegative(fault: Fault, field: string, value: unknown): void {
  if (!(Number.isFinite(value) && (value as number) >= 0)) throw new InvalidSimulationOptionError(`fault ${fault.kind}: ${field} must be a number >= 0 (got ${String(value)})`);
}

/** Check a plan's shape up front (a bad field is a named error before anything runs). */
export function validatePlan(plan: unknown): FaultPlan {
  if (!Array.isArray(plan)) throw new InvalidSimulationOptionError('faults must be an array of faults');
  for (const f of plan as Fault[]) {
    if (typeof f !== 'object' || f === null || !KINDS.has((f as Fault).kind)) throw new InvalidSimulationOptionError(`unknown fault ${JSON.stringify((f as Fault)?.kind)}: one of ${[...KINDS].join(', ')}`);
    if ('actor' in f && (typeof f.actor !== 'string' || f.actor === '')) throw new InvalidSimulationOptionError(`fault ${f.kind}: actor must be an actor id`);
    switch (f.kind) {
      case 'crash': positive(f, 'onMessage', f.onMessage); break;
      case 'crash-on': if (f.nth !== undefined) positive(f, 'nth', f.nth); break;
      case 'crash-if': if (typeof f.when !== 'function') throw new InvalidSimulationOptionError('fault crash-if: when must be a function'); break;
      case 'init-throw': if (f.start !== undefined) positive(f, 'start', f.start); if (f.times !== undefined) positive(f, 'times', f.times); break;
      case 'stall': positive(f, 'onMessage', f.onMessage); nonNegative(f, 'ms', f.ms); break;
      case 'delay': nonNegative(f, 'ms', f.ms); break;
      case 'store-fail': positive(f, 'onWrite', f.onWrite); break;
      case 'commit-fail': positive(f, 'onCommit', f.onCommit); break;
      case 'crash-system':
        if ('onCommit' in f) positive(f, 'onCommit', f.onCommit);
        else if ('atMs' in f) nonNegative(f, 'atMs', f.atMs);
        else throw new InvalidSimulationOptionError('fault crash-system: give either { atMs } or { onCommit }');
        break;
      case 'lose-thread':
        if ('actor' in f) positive(f, 'onMessage', f.onMessage);
        else if ('thread' in f) { positive(f, 'thread', f.thread); nonNegative(f, 'atMs', f.atMs); }
        else throw new InvalidSimulationOptionError('fault lose-thread: give either { thread, atMs } or { actor, onMessage }');
        break;
      case 'model-error':
        positive(f, 'onCall', f.onCall);
        if (!MODEL_FAULT_KINDS.includes(f.error)) throw new InvalidSimulationOptionError(`fault model-error: error must be one of ${MODEL_FAULT_KINDS.join(', ')} (got ${JSON.stringify(f.error)})`);
        if (f.agent !== undefined && (typeof f.agent !== 'string' || f.agent === '')) throw new InvalidSimulationOptionError('fault model-error: agent must be an actor id');
        if (f.retryAfterS !== undefined) nonNegative(f, 'retryAfterS', f.retryAfterS);
        if (f.inStream !== undefined && typeof f.inStream !== 'boolean') throw new InvalidSimulationOptionError('fault model-error: inStream must be a boolean');
        break;
    }
  }
  return plan as FaultPlan;
}

/** Every actor a plan names must exist once the system is set up: a typo would otherwise test nothing. */
export function checkTargets(plan: FaultPlan, known: ReadonlySet<string>): void {
  for (const f of plan) {
    const names = f.kind === 'delay' ? [f.to, f.from].filter((n): n is string => n !== undefined && n !== 'test')
      : f.kind === 'model-error' ? (f.agent === undefined ? [] : [f.agent]) : 'actor' in f ? [f.actor] : [];
    for (const name of names) {
      if (!known.has(name)) {
        throw new UnknownFaultTargetError(`fault ${f.kind} names actor '${name}', which the simulation never spawned (known: ${[...known].sort().join(', ') || 'none'})`, { details: { fault: f.kind, actor: name } });
      }
    }
  }
}

/** Every thread a timed lose-thread fault names must be one of the simulation's (1..threads). */
export function checkThreads(plan: FaultPlan, threads: number): void {
  for (const f of plan) {
    if (f.kind === 'lose-thread' && 'thread' in f && !(f.thread >= 1 && f.thread <= threads)) {
      throw new UnknownFaultTargetError(`fault lose-thread names thread ${f.thread}, which the simulation does not have (threads: ${threads}${threads > 0 ? `, numbered 1..${threads}` : ''})`, { details: { fault: f.kind, thread: f.thread } });
    }
  }
}

/** A plan as one line of JSON (predicates print as a placeholder: they cannot be replayed from text). */
export function printPlan(plan: FaultPlan): string {
  return JSON.stringify(plan, (_k, v) => (typeof v === 'function' ? '<predicate>' : v));
}

/** The faults that touch one actor's handling, looked up per message. */
export class ActorFaults {
  private readonly byType = new Map<string, number>();
  handled = 0;
  starts = 0;

  constructor(private readonly faults: readonly Fault[]) {}

  /** Called before each message: what to do with it. */
  onMessage(type: string, payload: unknown): { crash?: string; stallMs?: number; loseThread?: string } {
    const n = ++this.handled;
    const ofType = (this.byType.get(type) ?? 0) + 1;
    this.byType.set(type, ofType);
    let stallMs: number | undefined;
    for (const f of this.faults) {
      if (f.kind === 'crash' && f.onMessage === n) return { crash: `injected crash on message #${n}` };
      if (f.kind === 'crash-on' && f.type === type && (f.nth ?? 1) === ofType) return { crash: `injected crash on '${type}' #${ofType}` };
      if (f.kind === 'crash-if' && f.when(type, payload, n)) return { crash: `injected crash (predicate) on '${type}' #${n}` };
      if (f.kind === 'lose-thread' && 'actor' in f && f.onMessage === n) return { loseThread: `injected thread loss on message #${n}` };
      if (f.kind === 'stall' && f.onMessage === n) stallMs = (stallMs ?? 0) + f.ms;
    }
    return stallMs === undefined ? {} : { stallMs };
  }

  /** Called at each start (init): a message when this start must fail. */
  onInit(): string | undefined {
    const start = ++this.starts;
    for (const f of this.faults) {
      if (f.kind !== 'init-throw') continue;
      const first = f.start ?? 2;
      if (start >= first && start < first + (f.times ?? 1)) return `injected init failure on start #${start}`;
    }
    return undefined;
  }
}
