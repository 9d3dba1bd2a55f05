// GroupCommit: every write the store issues in one stretch of the event loop goes into one batch, run as ONE
// lmdb-js transaction callback (one commit, one fsync), and every caller shares the batch's one promise, which
// resolves once the commit is flushed to disk (durable), not merely committed.
//
// Why not one `root.transaction(cb)` per write: each callback, each promise and each `flushed` binding costs a few
// microseconds, which at ~100 B per message is as much as the LMDB work itself (bench/persistence/store.ts).
// Why not plain async `db.put`: lmdb-js encodes the value inside, per call; we pre-encode (see store.ts) and need
// removes and puts of several tables to land in one transaction in call order.
//
// The batch stays open until its transaction callback actually runs: writes issued after the transaction was
// queued but before LMDB is ready still join it. Values are pre-encoded bytes and keys are validated up front, so
// the callback does nothing that can throw on user data (a throwing lmdb-js callback does not roll back).
import { asBinary, type Database, type Key, type RootDatabase } from 'lmdb';
import { StoreClosingError } from './errors.ts';
import { MAX_SEGMENT_BYTES, SegmentBuilder } from './segment.ts';

const REMOVE = Symbol('remove');
/** Work that must read inside the transaction (rare: pruning history, deleting an actor). Must not throw. */
export type TxnWork = () => void;

/** The messages one actor journals in one batch, written as one value (segment.ts). */
class Segment extends SegmentBuilder {
  constructor(readonly first: number) {
    super();
  }
}
type Value = Uint8Array | typeof REMOVE | TxnWork | Segment;

class Batch {
  readonly dbs: Array<Database<any, any> | undefined> = [];
  readonly keys: Key[] = [];
  readonly values: Value[] = [];
  /** The open segment of each actor in this batch. */
  readonly segments = new Map<string, Segment>();
  /** The scheduler already let the event loop run once for this batch (aboutToStart). */
  yielded = false;
  done!: Promise<void>;
  constructor(readonly number: number) {}
}

/** The timer functions the batch riders' deadline uses (the runtime's injected clock). */
export interface Timers {
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * Says whether a commit may start, and is told when each one it let start is over (durable or failed): lets another
 * thread see the commits in flight here and stop new ones (runtime/commit-fence.ts).
 */
export interface CommitGate {
  enter(): boolean;
  exit(): void;
}

/**
 * A test seam (the testkit's store faults), asked as each commit's transaction starts, before it applies anything:
 * undefined lets the batch commit; an Error fails it whole (nothing of it is applied, every write of it rejects with
 * that error, as for a commit LMDB refused); 'vanish' is the process dying during the commit (nothing of it is
 * applied and its writes never settle). Production passes none.
 */
export type CommitFault = (batch: number) => Error | 'vanish' | undefined;

/** Where an appended message went: its segment's key seq, the batch it joined, and that batch's durability. */
export interface SegmentAppend {
  readonly segment: number;
  readonly batch: number;
  readonly done: Promise<void>;
}

export class GroupCommit {
  #open: Batch | undefined;
  #batches = 0;
  #riders: Array<() => void> = [];
  #ridersTimer: unknown;
  #last: Promise<void> = Promise.resolve();
  #commits = 0;
  #flush: { afterCommit: number; done: Promise<unknown> } | undefined;

  constructor(
    private readonly root: RootDatabase,
    private readonly timers: Timers = { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) },
    /** Told how long each commit took, from its batch's start until durable (ms). */
    private readonly onCommit?: (ms: number) => void,
    /** Asked before each commit starts, told when it is over (default: every commit may start). */
    private readonly gate?: CommitGate,
    /** A test seam (the testkit's commit faults): see CommitFault. Production passes none. */
    private readonly fault?: CommitFault,
  ) {
    root.on('aftercommit', () => void this.#commits++);
  }

  /** LMDB commits seen by this environment handle. */
  get commits(): number {
    return this.#commits;
  }

  /** Put pre-encoded bytes; resolves when the batch it joined is durable. */
  put(db: Database<any, any>, key: Key, bytes: Uint8Array): Promise<void> {
    return this.#add(db, key, bytes);
  }

  remove(db: Database<any, any>, key: Key): Promise<void> {
    return this.#add(db, key, REMOVE);
  }

  /**
   * Add one pre-encoded message (`seq` must follow the actor's previous one) to the actor's segment in this
   * batch, keyed [actorId, seq of the segment's first message]; a full segment is closed and a new one started.
   */
  appendToSegment(db: Database<any, any>, actorId: string, seq: number, bytes: Uint8Array, start = 0, end = bytes.length): SegmentAppend {
    const batch = this.#open ?? this.#start();
    let segment = batch.segments.get(actorId);
    if (segment === undefined || segment.length + (end - start) > MAX_SEGMENT_BYTES) {
      segment = new Segment(seq);
      batch.segments.set(actorId, segment);
      batch.dbs.push(db);
      batch.keys.push([actorId, seq]);
      batch.values.push(segment);
    }
    segment.append(bytes, start, end);
    return { segment: segment.first, batch: batch.number, done: batch.done };
  }

  /**
   * Call `ride` at the end of the task in which the next batch starts (or of this one, if a batch is open), so it
   * can add writes that need not be committed on their own (a snapshot nobody waits for) to a commit that happens
   * anyway.
   */
  joinNextBatch(ride: () => void, withinMs: number): void {
    if (this.#open !== undefined) return queueMicrotask(ride); // at the end of this task, with the latest state
    this.#riders.push(ride);
    // One timer for every rider waiting (not one per actor): if no batch starts meanwhile, they go on their own.
    this.#ridersTimer ??= this.timers.setTimer(() => {
      this.#ridersTimer = undefined;
      this.#releaseRiders();
    }, withinMs);
  }

  #releaseRiders(): void {
    if (this.#ridersTimer !== undefined) this.timers.clearTimer(this.#ridersTimer);
    this.#ridersTimer = undefined;
    const riders = this.#riders;
    this.#riders = [];
    for (const ride of riders) ride();
  }

  /** Later appends of this actor start a new segment (so a remove or delete issued now cannot cover them). */
  closeSegment(actorId: string): void {
    this.#open?.segments.delete(actorId);
  }

  /**
   * True once per batch, while it gathers writes (its transaction is queued: lmdb-js starts it at the next turn
   * of the event loop, or once its write thread is free). The scheduler then lets the event loop run once before
   * handling more messages, so the commit usually starts first and its fsync overlaps the handling, whose writes
   * join this batch if it is still gathering, else the next.
   */
  aboutToStart(): boolean {
    const batch = this.#open;
    if (batch === undefined || batch.yielded) return false;
    batch.yielded = true;
    return true;
  }

  /** The number of the batch now taking writes, if any: its segments may still grow. */
  get openBatch(): number | undefined {
    return this.#open?.number;
  }

  /** Run `work` inside the batch's transaction, in call order with the other writes. */
  run(work: TxnWork): Promise<void> {
    return this.#add(undefined, '', work);
  }

  /** Resolves once every write issued so far is durable (rejections are the writers' to handle). */
  settled(): Promise<void> {
    return this.#last.then(
      () => undefined,
      () => undefined,
    );
  }

  #add(db: Database<any, any> | undefined, key: Key, value: Value): Promise<void> {
    const batch = this.#open ?? this.#start();
    batch.dbs.push(db);
    batch.keys.push(key);
    batch.values.push(value);
    return batch.done;
  }

  #start(): Batch {
    const batch = new Batch(++this.#batches);
    if (this.gate !== undefined && !this.gate.enter()) return this.#refused(batch, new StoreClosingError('the store takes no more commits: this thread is being terminated'));
    let committed: Promise<unknown>;
    let refused: Error | 'vanish' | undefined;
    try {
      committed = this.root.transaction(() => {
        if (this.#open === batch) this.#open = undefined;
        // Thrown before any write of the batch is applied, so the transaction holds nothing of it.
        if (this.fault !== undefined && (refused = this.fault(batch.number)) !== undefined) throw refused === 'vanish' ? new Error('vanished') : refused;
        const { dbs, keys, values } = batch;
        for (let i = 0; i < dbs.length; i++) {
          const value = values[i];
          if (value === REMOVE) dbs[i]!.remove(keys[i]);
          else if (typeof value === 'function') value();
          else if (value instanceof Segment) dbs[i]!.put(keys[i], asBinary(value.bytes()));
          else dbs[i]!.put(keys[i], asBinary(value));
        }
      });
    } catch (err) {
      // e.g. the environment is closed: this batch fails as a whole and is never open, the next one tries again.
      this.gate?.exit();
      return this.#refused(batch, err);
    }
    this.#open = batch;
    // A transaction LMDB refused without running the callback must not stay open for later writes.
    committed.catch(() => {
      if (this.#open === batch) this.#open = undefined;
    });
    batch.done = committed.then(() => this.#flushedAfterCommit()).then(() => undefined);
    if (this.gate !== undefined) {
      const gate = this.gate;
      batch.done.then(() => gate.exit(), () => gate.exit());
    }
    if (this.fault !== undefined) {
      // A vanished batch never settles; what waits for the store (settled(), close()) does not wait for it.
      const settles = batch.done.then(() => undefined, () => undefined);
      batch.done = batch.done.catch((err: unknown) => (refused === 'vanish' ? new Promise<void>(() => undefined) : Promise.reject(err)));
      this.#last = settles;
    }
    if (this.onCommit !== undefined) {
      const started = performance.now();
      const onCommit = this.onCommit;
      batch.done.then(() => onCommit(performance.now() - started), () => undefined);
    }
    if (this.fault === undefined) this.#last = batch.done;
    if (this.#riders.length > 0) queueMicrotask(() => this.#releaseRiders());
    return batch;
  }

  /** A batch that fails as a whole and is never open (the next one tries again). */
  #refused(batch: Batch, err: unknown): Batch {
    batch.done = Promise.reject(err);
    batch.done.catch(() => undefined);
    return batch;
  }

  /**
   * With overlappingSync (lmdb-js's default on Linux and macOS) a commit resolves when the data is visible,
   * before fsync; `flushed` resolves when the fsync is done. It is a thenable bound to whichever transaction is
   * current when then() runs: after our commit resolved, that is ours or a later one, and a later flush covers
   * ours. Binding costs several microseconds, so all batches of one commit share one binding.
   */
  #flushedAfterCommit(): Promise<unknown> {
    if (this.#flush?.afterCommit !== this.#commits) {
      this.#flush = { afterCommit: this.#commits, done: new Promise((ok, fail) => this.root.flushed.then(ok, fail)) };
    }
    return this.#flush.done;
  }
}
