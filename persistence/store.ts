// ActorStore: snapshots, journal and dedup of actors in one LMDB environment. Plumbing only: when to
// snapshot lives in cadence.ts, schema upgrades in migrate.ts.
//
// Threads: several worker threads of one process may each call ActorStore.open(dir). LMDB forbids opening one
// environment twice per process; lmdb-js handles that by keeping a process-wide, reference-counted table of
// open environments, so every thread's open() attaches to the same MDB_env, and the last close() syncs and
// closes it. Consequence: the first opener's environment flags win, so every thread must pass ENV_OPTIONS.
//
// Writes: each write method queues one async transaction callback synchronously, in call order (bad input
// rejects instead). Callbacks issued in one event-loop turn run in one LMDB write transaction: one commit, one
// fsync (group commit). Nothing here uses putSync/transactionSync. Write promises resolve once the commit is
// flushed to disk, not merely committed (see #durable).
// Atomicity of one step: a throwing lmdb-js transaction callback does NOT roll back what it already wrote
// (only childTransaction does, and its nested LMDB transactions made the whole path ~1.5x slower in
// bench/persistence/store.ts). So values are encoded before queuing, and each callback does every read that can
// fail (decoding user data) before its first write; the writes themselves are of pre-encoded bytes.
import { asBinary, open, type Database, type Key, type RootDatabase } from 'lmdb';
import { InvalidStoreKeyError, JournalDecodeError, SnapshotDecodeError } from './errors.ts';
import { checkPart, checkSeq, keysOf, positiveInt } from './keys.ts';

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
      throw new SnapshotDecodeError(actorId, String((cause as Error)?.message ?? cause), { cause });
    }
    if (value === undefined) return undefined;
    // msgpack decodes many garbage byte strings without complaint (a lone 0xC1 becomes an object): check the shape.
    if (!isSnapshot(value)) throw new SnapshotDecodeError(actorId, 'not a {version, seq, state, at} record');
    return value;
  }

  /** Oldest first; empty unless keepSnapshots > 1. */
  snapshotHistory(actorId: string): Snapshot[] {
    checkPart('actorId', actorId);
    const entries = this.#history.getRange({ start: [actorId, 0], end: [actorId, Infinity] });
    return [...entries].map((e) => e.value as Snapshot);
  }

  /** Also drops the journal entries the snapshot covers (seq <= snapshot.seq), remembering their ids. */
  async writeSnapshot(actorId: string, snapshot: Snapshot): Promise<void> {
    checkPart('actorId', actorId);
    checkSeq(snapshot.seq, 0);
    const bytes = this.#encode(snapshot);
    return this.#durable(() => {
      const last = this.#lastSeq(actorId);
      const covered = this.#pendingRun(actorId, Math.min(snapshot.seq, last));
      this.#putSnapshot(actorId, snapshot.seq, bytes);
      this.#drop(actorId, covered);
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
    const keys = this.#journal.getKeys({ start: [actorId, 0], end: [actorId, Infinity] });
    return [...keys].map((key) => {
      const seq = (key as [string, number])[1];
      const { id, type, payload } = this.#readEntry(actorId, seq);
      return { seq, id, type, payload };
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
      const covered = this.#pendingRun(actorId, Math.min(seq - 1, last));
      this.#putSnapshot(actorId, seq, bytes);
      this.#drop(actorId, [...covered, { seq, id: messageId }]);
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

  /** Record messageId at seq; forget the id recorded K seqs earlier, which just left the window. In seq order. */
  #remember(actorId: string, messageId: string, seq: number): void {
    this.#dedup.put([actorId, messageId], seq);
    this.#dedupOrder.put([actorId, seq], messageId);
    this.#forget(actorId, seq - this.#dedupWindow);
  }

  // Reads after writes are safe here: they decode only numbers and strings this module wrote.
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
   * The pending journal entries at or below `seq` (at most the last seq handed out), oldest first. They always
   * form a run of consecutive seqs ending at the last one handed out (appends are consecutive; commits and
   * snapshots remove prefixes), so walk down to the first gap with point reads: a range scan costs 5-30 us in a
   * write transaction, a point read under 1 us, and in the every-message cadence the walk stops at once.
   */
  #pendingRun(actorId: string, seq: number): Array<{ seq: number; id: string }> {
    let low = seq + 1;
    while (low > 1 && this.#journal.doesExist([actorId, low - 1])) low--;
    const run: Array<{ seq: number; id: string }> = [];
    for (let s = low; s <= seq; s++) run.push({ seq: s, id: this.#readEntry(actorId, s).id });
    return run;
  }

  #readEntry(actorId: string, seq: number): JournalMessage {
    let value: unknown;
    try {
      value = this.#journal.get([actorId, seq]);
    } catch (cause) {
      throw new JournalDecodeError(actorId, seq, String((cause as Error)?.message ?? cause), { cause });
    }
    const entry = value as Partial<JournalMessage> | null | undefined;
    if (typeof entry?.id !== 'string' || typeof entry.type !== 'string') {
      throw new JournalDecodeError(actorId, seq, 'decoded value is not an {id, type, payload} record');
    }
    return entry as JournalMessage;
  }

  /** Remove these journal entries and remember their ids, oldest first as #remember expects. */
  #drop(actorId: string, entries: Array<{ seq: number; id: string }>): void {
    for (const { seq, id } of entries) {
      this.#journal.remove([actorId, seq]);
      this.#remember(actorId, id, seq);
    }
  }

  /**
   * Raise the actor's seq counter from `last` to `seq`: a snapshot claiming seq messages applied means the next
   * append is seq + 1. Seqs skipped by such a jump are never remembered, so they never push older ids out of
   * the dedup window: forget those here. Runs after #drop, so nothing it remembers is missed.
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
    const result = await this.#root.transaction(work);
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

function isSnapshot(v: unknown): v is Snapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.version === 'number' && typeof s.seq === 'number' && typeof s.at === 'number' && 'state' in s;
}
