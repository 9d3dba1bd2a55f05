/**
 * Counters one thread keeps for introspection (Prometheus and the like read them through Runtime.metricsSnapshot):
 * plain numbers on the thread, updated per scheduler slice or on rare paths (crash, restart, circuit change), never
 * per message on the hot path, and read only when someone asks. Labels are bounded: per actor kind, never per id.
 */

/**
 * Mean handling time (ms) from which an actor's messages are timed one by one: a clock read (~30-50 ns) is then
 * under 1% of a message. Below it a slice's messages count at their mean (KindCounters.slice).
 */
export const TIME_EACH_FROM_MS = 0.01;

/** Upper bounds (ms) of the duration histograms; one more bucket counts everything above the last. */
export const DURATION_BUCKETS_MS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000];

/** A histogram as fixed bucket counts (not cumulative), their sum and count. */
export interface HistogramData {
  /** counts[i]: observations <= DURATION_BUCKETS_MS[i] and above the previous bound; the last one: above them all. */
  counts: number[];
  sumMs: number;
  count: number;
}

export class DurationHistogram {
  readonly counts = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
  sumMs = 0;
  count = 0;

  /** `n` observations of `ms` each (a slice of n messages handled in n * ms). */
  observe(ms: number, n = 1): void {
    let i = 0;
    while (i < DURATION_BUCKETS_MS.length && ms > DURATION_BUCKETS_MS[i]!) i++;
    this.counts[i]! += n;
    this.sumMs += ms * n;
    this.count += n;
  }

  data(): HistogramData {
    return { counts: this.counts.slice(), sumMs: this.sumMs, count: this.count };
  }
}

/**
 * Message types of a kind counted under their own name: its first MAX_TYPE_LABELS handler types in definition
 * order (the same on every thread) and the runtime's own; any other type (no handler, or past the bound) counts as
 * 'other'. Label values come from code, never from message traffic, so the series stay bounded and never move.
 */
export const MAX_TYPE_LABELS = 32;
const SYSTEM_TYPES = ['$stop', '$terminated', '$replay'];

/** Messages of one type (or 'other') of one kind on one thread. */
export interface TypeCount {
  handled: number;
  crashed: number;
}

/** Counters of one actor kind on one thread (every cell of that kind holds the same object). */
export class KindCounters {
  /** By type label (see MAX_TYPE_LABELS); fed by the cells in runs of one type (Cell.countType). */
  readonly types = new Map<string, TypeCount>();
  private readonly labelled: Set<string>;

  constructor(handlerTypes: readonly string[] = []) {
    this.labelled = new Set([...handlerTypes.slice(0, MAX_TYPE_LABELS), ...SYSTEM_TYPES]);
  }

  private of(type: string): TypeCount {
    const label = this.labelled.has(type) ? type : 'other';
    let c = this.types.get(label);
    if (c === undefined) this.types.set(label, (c = { handled: 0, crashed: 0 }));
    return c;
  }

  handledType(type: string, n: number): void {
    this.of(type).handled += n;
  }

  crashedType(type: string): void {
    this.of(type).crashed++;
  }

  /** Messages taken from mailboxes (crashed ones included). */
  handled = 0;
  crashed = 0;
  /** New incarnations started by a supervisor's restart, a restart under credit or a circuit's trial. */
  restarts = 0;
  toOpen = 0;
  toHalfOpen = 0;
  toClosed = 0;
  /**
   * Handling time, one observation per message (Cell.run, runTimed and settled): see slice() for how it is timed.
   */
  readonly handling = new DurationHistogram();

  /**
   * A scheduler slice of n messages of one actor, handled in `ms`, timed as a whole (a clock read per message would
   * cost a fifth of the same-thread tell figure): they count n observations of their mean, but for the last one when
   * `asyncLast` (an async handler: the cell observes it when it settles). Returns whether the slice was slow: its
   * messages took TIME_EACH_FROM_MS or more on average, where two clock reads are under 1% of a message (after two
   * slow slices in a row the actor's next slices time each message on its own: Cell.run).
   */
  slice(n: number, ms: number, asyncLast: boolean): boolean {
    this.handled += n;
    const mean = ms / n;
    const observed = asyncLast ? n - 1 : n;
    if (observed > 0) this.handling.observe(mean, observed);
    return mean >= TIME_EACH_FROM_MS;
  }

  /** A slice whose messages were observed one by one (Cell.runTimed): whether the next one is timed so too. */
  timed(n: number, ms: number): boolean {
    this.handled += n;
    return ms / n >= TIME_EACH_FROM_MS;
  }
}

export interface KindMetrics {
  handled: number;
  crashed: number;
  restarts: number;
  transitions: { open: number; 'half-open': number; closed: number };
  handling: HistogramData;
  /** By message type label (KindCounters.types); their sum is `handled` (as of the last scrape of this thread). */
  types: Record<string, TypeCount>;
  /** Now: actors of this kind here, by phase (runtime/cell.ts Phase). */
  phases: Record<string, number>;
  /** Now: messages waiting in their mailboxes. */
  mailboxDepth: number;
}

export interface ThreadMetrics {
  node: number;
  /** Drawn at this thread's start: a thread replaced after a loss has another, its counters from zero. */
  epoch: number;
  kinds: Record<string, KindMetrics>;
  deadLetters: Record<string, number>;
  asks: { ok: number; error: number; timeout: number };
  /** Journaled messages not yet handled (durable mailboxes). */
  journalDepth: number;
  journalCommit: HistogramData;
  snapshot: HistogramData;
  /** Since the previous metrics snapshot of this thread (0..1). */
  eventLoopUtilization: number;
  heapUsedBytes: number;
  /** Capabilities' counters (ThreadServices.countersSource): `<metric name>\u0000<labels JSON>` -> count. */
  extra: Record<string, number>;
}

/** The counters of one thread (held by its Host). `enabled: false` turns the per-slice counting off. */
export class ThreadCounters {
  private readonly kinds = new Map<string, KindCounters>();
  asksOk = 0;
  asksError = 0;
  asksTimeout = 0;
  readonly journalCommit = new DurationHistogram();
  readonly snapshot = new DurationHistogram();

  constructor(readonly enabled: boolean) {}

  /** The counters a new cell of `kind` counts in (undefined when counting is off). */
  forKind(kind: string, handlerTypes?: readonly string[]): KindCounters | undefined {
    if (!this.enabled) return undefined;
    let k = this.kinds.get(kind);
    if (k === undefined) this.kinds.set(kind, (k = new KindCounters(handlerTypes)));
    return k;
  }

  allKinds(): IterableIterator<[string, KindCounters]> {
    return this.kinds.entries();
  }
}
