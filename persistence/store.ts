// ActorStore: snapshots, journal and dedup of actors in one LMDB environment. Plumbing only: when to
// snapshot lives in cadence.ts, schema upgrades in migrate.ts.
//
// Threads: several worker threads of one process may each call ActorStore.open(dir). LMDB forbids opening one
// environment twice per process; lmdb-js handles that by keeping a process-wide, reference-counted table of
// open environments, so every thread's open() attaches to the same MDB_env, and the last close() syncs and
// closes it. Consequence: the first opener's environment flags win, so every thread must pass ENV_OPTIONS.
//
// Writes: each write method queues one async childTransaction synchronously, in call order (bad input rejects
// instead). Those issued in one event-loop turn share one LMDB commit (group commit), and a step that throws
// rolls back alone. Nothing here uses putSync/transactionSync. Write promises resolve once the commit is
// flushed to disk, not merely committed (see #durable).
import { asBinary, open, type Database, type Key, type RootDatabase } from 'lmdb';
import { InvalidPersistenceOptionError, InvalidStoreKeyError, SnapshotDecodeError } from './errors.ts';

export interface Snapshot<S = unknown> {
  readonly version: number; // schema version of `state`
  readonly seq: number; // messages applied
  readonly state: S;
  readonly at: number;
}
export interface JournalMessage {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
}
export interface JournalEntry extends JournalMessage {
  readonly seq: number;
}
export interface HandledCommit {
  readonly seq: number;
  readonly snapshot: Snapshot;
  readonly messageId: string;
}
export interface ActorStoreOptions {
  /** K: message ids remembered per actor (those of the last K sequence numbers). Default 1024. */
  readonly dedupWindow?: number;
  /** Snapshots kept per actor. 1 (default) keeps only `snapshots`; N > 1 also keeps the last N in `snapshotHistory`. */
  readonly keepSnapshots?: number;
}

/** Options every opener of a store directory must use (first opener's flags win, see above). */
export const ENV_OPTIONS = {
  noSubdir: false, // lmdb-js treats a path with a '.' in its last segment as a file; ours is always a directory
  maxDbs: 8,
  // No object cache: it is per thread and would serve stale values after another thread writes.
  // No sharedStructuresKey: saving new shared structures runs a hidden transactionSync.
  cache: false,
} as const;

type Bytes = Uint8Array;
/** Values are pre-encoded (see #encode) and written as raw bytes, so write handles accept either form. */
type Stored<V> = V | ReturnType<typeof asBinary>;
const MAX_KEY_BYTES = 900; // per key part: LMDB keys are at most 1978 bytes and [actorId, messageId] holds two

export class ActorStore {
  readonly #root: RootDatabase;
  readonly #snapshots: Database<Stored<Snapshot>, string>;
  readonly #history: Database<Stored<Snapshot>, Key>; // [actorId, seq]
  readonly #journal: Database<Stored<JournalMessage>, Key>; // [actorId, seq]
  readonly #dedup: Database<number, Key>; // [actorId, messageId] -> seq
  readonly #dedupOrder: Database<string, Key>; // [actorId, seq] -> messageId: finds what falls out of the window
  readonly #counters: Database<number, string>; // actorId -> last seq assigned (survives journal truncation)
  readonly #dedupWindow: number;
  readonly #keepSnapshots: number;
  #commits = 0;
  #flush: { afterCommit: number; done: Promise<unknown> } | undefined;
  #closing: Promise<void> | undefined;

  private constructor(root: RootDatabase, options: ActorStoreOptions) {
    this.#root = root;
    this.#snapshots = root.openDB<Stored<Snapshot>, string>('snapshots', {});
    this.#history = root.openDB<Stored<Snapshot>, Key>('snapshotHistory', {});
    this.#journal = root.openDB<Stored<JournalMessage>, Key>('journal', {});
    this.#dedup = root.openDB<number, Key>('dedup', {});
    this.#dedupOrder = root.openDB<string, Key>('dedupOrder', {});
    this.#counters = root.openDB<number, string>('counters', {});
    this.#dedupWindow = positiveInt('dedupWindow', options.dedupWindow ?? 1024);
    this.#keepSnapshots = positiveInt('keepSnapshots', options.keepSnapshots ?? 1);
    root.on('aftercommit', () => void this.#commits++);
  }

  static open(dir: string, options: ActorStoreOptions = {}): ActorStore {
    positiveInt('dedupWindow', options.dedupWindow ?? 1024);
    positiveInt('keepSnapshots', options.keepSnapshots ?? 1);
    return new ActorStore(open({ path: dir, ...ENV_OPTIONS }), options);
  }

  /** LMDB commits made by this store instance: lets tests and metrics see group commit at work. */
  get commitCount(): number {
    return this.#commits;
  }

  close(): Promise<void> {
    this.#closing ??= Promise.resolve(this.#root.flushed).then(() => this.#root.close());
    return this.#closing;
  }

  readSnapshot(actorId: string): Snapshot | undefined {
    checkPart('actorId', actorId);
    // A recovery read: drop the cached read transaction so a snapshot committed by another thread during this
    // event turn is visible (lmdb-js otherwise renews read snapshots only on a timer).
    this.#root.resetReadTxn();
    let value: unknown;
    try {
      value = this.#snapshots.get(actorId);
    } catch (cause) {
      throw new SnapshotDecodeError(actorId, (cause as Error)?.message ?? String(cause), { cause });
    }
    if (value === undefined) return undefined;
    if (!isSnapshot(value)) throw new SnapshotDecodeError(actorId, 'decoded value is not a {version, seq, state, at} record');
    return value;
  }

  /** Oldest first; empty unless keepSnapshots > 1. */
  snapshotHistory(actorId: string): Snapshot[] {
    checkPart('actorId', actorId);
    return [...this.#history.getRange({ start: [actorId, 0], end: [actorId, Infinity] })].map((e) => e.value as Snapshot);
  }

  /** Also drops the journal entries the snapshot covers (seq <= snapshot.seq), remembering their message ids. */
  async writeSnapshot(actorId: string, snapshot: Snapshot): Promise<void> {
    checkPart('actorId', actorId);
    checkSeq(snapshot.seq, 0);
    const bytes = this.#encode(snapshot);
    return this.#durable(() => {
      const last = this.#lastSeq(actorId);
      this.#putSnapshot(actorId, snapshot.seq, bytes);
      this.#cover(actorId, Math.min(snapshot.seq, last));
      this.#advanceTo(actorId, snapshot.seq, last);
    });
  }

  /** Resolves to the message's sequence number (1, 2, ... per actor) once the entry is durable. */
  async appendJournal(actorId: string, message: JournalMessage): Promise<number> {
    checkPart('actorId', actorId);
    checkPart('message id', message.id);
    const bytes = this.#encode({ id: message.id, type: message.type, payload: message.payload });
    return this.#durable(() => {
      // Assigned inside the write transaction, so two threads (or two stores) never hand out the same seq.
      const seq = this.#lastSeq(actorId) + 1;
      this.#counters.put(actorId, seq);
      this.#journal.put([actorId, seq], asBinary(bytes));
      return seq;
    });
  }

  journalEntries(actorId: string): JournalEntry[] {
    checkPart('actorId', actorId);
    this.#root.resetReadTxn(); // recovery read, as in readSnapshot
    return [...this.#journal.getRange({ start: [actorId, 0], end: [actorId, Infinity] })].map(({ key, value }) => {
      const { id, type, payload } = value as JournalMessage;
      return { seq: (key as [string, number])[1], id, type, payload };
    });
  }

  /**
   * The exactly-once step, in one transaction: store the snapshot, drop journal entries up to and including
   * `seq`, and remember their message ids. Entries before `seq` are dropped too because a snapshot at `seq`
   * already contains their effects (cadences other than every message); replaying them would apply them twice.
   */
  async commitHandled(actorId: string, { seq, snapshot, messageId }: HandledCommit): Promise<void> {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    checkSeq(seq, 1);
    if (snapshot.seq !== seq) throw new InvalidStoreKeyError(`snapshot.seq (${snapshot.seq}) must equal seq (${seq})`);
    const bytes = this.#encode(snapshot);
    return this.#durable(() => {
      const last = this.#lastSeq(actorId);
      this.#putSnapshot(actorId, seq, bytes);
      this.#journal.remove([actorId, seq]);
      this.#remember(actorId, messageId, seq);
      this.#cover(actorId, Math.min(seq - 1, last));
      this.#advanceTo(actorId, seq, last);
    });
  }

  seenMessage(actorId: string, messageId: string): boolean {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    return this.#dedup.doesExist([actorId, messageId]); // no decode: key presence is the answer
  }

  async deleteActor(actorId: string): Promise<void> {
    checkPart('actorId', actorId);
    return this.#durable(() => {
      this.#snapshots.remove(actorId);
      this.#counters.remove(actorId);
      for (const db of [this.#history, this.#journal, this.#dedup, this.#dedupOrder]) {
        for (const key of keysOf(db, actorId)) db.remove(key);
      }
    });
  }

  // --- inside write transactions ---

  #putSnapshot(actorId: string, seq: number, bytes: Bytes): void {
    this.#snapshots.put(actorId, asBinary(bytes));
    if (this.#keepSnapshots === 1) return;
    this.#history.put([actorId, seq], asBinary(bytes));
    const keys = keysOf(this.#history, actorId);
    for (const key of keys.slice(0, Math.max(0, keys.length - this.#keepSnapshots))) this.#history.remove(key);
  }

  /** Record messageId at seq, and forget the id recorded K seqs earlier, which just left the window. */
  #remember(actorId: string, messageId: string, seq: number): void {
    this.#dedup.put([actorId, messageId], seq);
    this.#dedupOrder.put([actorId, seq], messageId);
    this.#forget(actorId, seq - this.#dedupWindow);
  }

  #forget(actorId: string, seq: number): void {
    const messageId = seq >= 1 ? this.#dedupOrder.get([actorId, seq]) : undefined;
    if (messageId === undefined) return;
    this.#dedupOrder.remove([actorId, seq]);
    // The same id may have been recorded again later; only drop the mapping if it still points here.
    if (this.#dedup.get([actorId, messageId]) === seq) this.#dedup.remove([actorId, messageId]);
  }

  #lastSeq(actorId: string): number {
    return this.#counters.get(actorId) ?? 0;
  }

  /**
   * Drop pending journal entries at or below `seq` (at most the last seq handed out), remembering their ids.
   * Pending entries always form a run of consecutive seqs ending at the last one handed out (appends are
   * consecutive; commits and snapshots remove prefixes), so walk down to the first gap with point reads: a
   * range scan costs 5-30 us in a write transaction, a point read under 1 us, and in the every-message
   * cadence the walk stops at once.
   */
  #cover(actorId: string, seq: number): void {
    for (let s = seq; s >= 1 && this.#journal.doesExist([actorId, s]); s--) {
      this.#remember(actorId, (this.#journal.get([actorId, s]) as JournalMessage).id, s);
      this.#journal.remove([actorId, s]);
    }
  }

  /**
   * Raise the actor's seq counter from `last` to `seq`: a snapshot claiming seq messages applied means the next
   * append is seq + 1. Seqs skipped by such a jump are never remembered, so they never push older ids out of
   * the dedup window: forget those here. Runs after #cover, so nothing it remembers is missed.
   */
  #advanceTo(actorId: string, seq: number, last: number): void {
    if (seq <= last) return;
    this.#counters.put(actorId, seq);
    const end = Math.min(last, seq - this.#dedupWindow);
    for (let s = Math.max(1, last - this.#dedupWindow + 1); s <= end; s++) this.#forget(actorId, s);
  }

  // --- plumbing ---

  /**
   * Encode now, with lmdb-js's own msgpackr encoder, rather than inside the deferred transaction callback:
   * the bytes then reflect the value at call time even if the caller mutates it afterwards, and an
   * unencodable value (e.g. a symbol) rejects before anything is queued.
   */
  #encode(value: unknown): Bytes {
    return (this.#journal as unknown as { encoder: { encode(v: unknown): Bytes } }).encoder.encode(value);
  }

  /** Queue `work` into the current group commit; resolve with its result once that commit is on disk. */
  async #durable<T>(work: () => T): Promise<T> {
    const result = await this.#root.childTransaction(work);
    await this.#flushedAfterCommit();
    return result;
  }

  /**
   * With overlappingSync (lmdb-js's default on Linux and macOS) a commit resolves when the data is visible,
   * before fsync; `flushed` resolves when the fsync is done. It is a thenable bound to whichever transaction is
   * current when then() runs: after our commit resolved, that is ours or a later one, and a later flush covers
   * ours. Binding costs several microseconds, so all callers share one binding until the next commit.
   */
  #flushedAfterCommit(): Promise<unknown> {
    if (this.#flush?.afterCommit !== this.#commits) {
      this.#flush = { afterCommit: this.#commits, done: new Promise((ok, fail) => this.#root.flushed.then(ok, fail)) };
    }
    return this.#flush.done;
  }
}

/** All keys of one actor in a db keyed by [actorId, ...]; collected up front because the caller removes them. */
function keysOf(db: Database<unknown, Key>, actorId: string): Key[] {
  const keys: Key[] = [];
  // [actorId] is a prefix of, so sorts before, every [actorId, x]; the first key with another head ends the run.
  for (const key of db.getKeys({ start: [actorId] })) {
    if (!Array.isArray(key) || key[0] !== actorId) break;
    keys.push(key);
  }
  return keys;
}

function isSnapshot(v: unknown): v is Snapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.version === 'number' && typeof s.seq === 'number' && typeof s.at === 'number' && 'state' in s;
}

function checkPart(what: string, value: unknown): void {
  // ordered-binary uses NUL as the separator inside array keys, so a NUL in a key part would break ranges.
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.includes('\0') ||
    (value.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(value) > MAX_KEY_BYTES)
  ) {
    throw new InvalidStoreKeyError(`${what} must be a non-empty string of at most ${MAX_KEY_BYTES} UTF-8 bytes without NUL`);
  }
}

function checkSeq(seq: unknown, min: number): void {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < min) {
    throw new InvalidStoreKeyError(`seq must be an integer >= ${min}, got ${String(seq)}`);
  }
}

function positiveInt(name: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidPersistenceOptionError(`${name} must be an integer >= 1, got ${String(n)}`);
  }
  return n;
}
