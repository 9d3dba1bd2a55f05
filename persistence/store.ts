// ActorStore: snapshots, journal and remembered message ids of actors in one LMDB environment. Plumbing only:
// when to snapshot lives in cadence.ts, schema upgrades in migrate.ts, the exactly-once bookkeeping of one actor
// (sequence numbers, which ids to remember) in runtime/persist.ts.
//
// Threads: several worker threads of one process may each call ActorStore.open(dir). LMDB forbids opening one
// environment twice per process; lmdb-js handles that by keeping a process-wide, reference-counted table of
// open environments, so every thread's open() attaches to the same MDB_env, and the last close() syncs and
// closes it. Consequence: the first opener's environment flags win, so every thread must pass ENV_OPTIONS.
// Within one thread, every ActorStore of a directory shares one handle (thread-envs.ts: two would deadlock).
//
// Writes: every write of one stretch of the event loop shares one transaction and one fsync (group-commit.ts);
// write promises resolve once that commit is flushed to disk. Values are encoded when the call is made (an
// unencodable value rejects before anything is queued) and written as raw bytes; nothing in the transaction
// decodes user data, so nothing there can fail half-way.
//
// Layout, per actor: `snapshots` (latest), `snapshotHistory` (last N when keepSnapshots > 1), `journal`
// [actorId, seq] -> {id, type, payload} (a durable mailbox's messages), `messageIds` [actorId, messageId] -> seq
// (ids remembered to recognise a sender's retry). The write path is one put per message journaled, one remove
// per message handled and one snapshot per actor per commit: the sequence numbers are kept by the caller
// (one actor lives on one thread at a time), and a snapshot at seq S covers every journal entry <= S, so entries
// it covers that a crash left behind are ignored on recovery and removed by the next snapshot.
// Recovery only (persistence/poison.ts): `deliveries` actorId -> {seq, attempts} (replays begun of the head of the
// actor's journal), `poison` [actorId, seq] -> the message set aside as poison, until an operator drops it.
import type { Database, Key, RootDatabase } from 'lmdb';
import { acquireEnv, releaseEnv, type ThreadEnv } from './thread-envs.ts';
import { JournalDecodeError, SnapshotDecodeError, UnencodableValueError } from './errors.ts';
import { GroupCommit, type CommitFault, type CommitGate, type SegmentAppend, type Timers } from './group-commit.ts';
import { unframeSegment } from './segment.ts';
import type { DeliveryRecord } from './poison.ts';
import { deliveryFromStore, deliveryToStore, poisonToStore } from './poison-records.ts';
import { checkPart, checkSeq, keysOf, positiveInt } from './keys.ts';

export { ENV_OPTIONS } from './thread-envs.ts';

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
  /**
   * The W3C traceparent the message carried (runtime/tracing.ts), so that its replay after a restart continues its
   * trace; '' or absent for none (and in entries journaled before it was stored).
   */
  readonly trace?: string;
}
export interface JournalEntry extends JournalMessage {
  readonly seq: number;
}
/** One stored journal segment: the messages an actor journaled in one commit (persistence/segment.ts). */
export interface JournalSegment {
  readonly first: number;
  readonly last: number;
  readonly entries: readonly JournalEntry[];
}
/** A journaled message set aside because replaying it kept killing its thread or process (poison.ts). */
export interface PoisonMessage extends JournalEntry {
  /** Replays begun before it was set aside (the first delivery, before any recovery, is not counted). */
  readonly attempts: number;
  /** When it was set aside (ms since the epoch). */
  readonly at: number;
}
export interface RememberedId {
  readonly id: string;
  readonly seq: number;
}
export interface SnapshotWriteOptions {
  /** Journal segments (by first seq) to remove in the same commit: every message in them is in the snapshot. */
  readonly removeSegments?: readonly number[];
  /** Snapshots to keep for this actor (default: the store's keepSnapshots). */
  readonly keep?: number;
}
export interface StoreObserver {
  commit(ms: number): void;
  snapshot(ms: number): void;
}

export interface ActorStoreOptions {
  /** Snapshots kept per actor. 1 (default) keeps only `snapshots`; N > 1 also keeps the last N in `snapshotHistory`. */
  readonly keepSnapshots?: number;
  /** Timers for writes that wait to join a commit (default: setTimeout); the runtime passes its clock. */
  readonly timers?: Timers;
  /** Told how long each commit took until durable, and each snapshot write from its call until durable (ms). */
  readonly observe?: StoreObserver;
  /** Asked before each commit starts and told when it is over (a worker thread's CommitFence, runtime/commit-fence.ts). */
  readonly gate?: CommitGate;
  /** A test seam: fail commits, or lose one as a process dying during it would (GroupCommit's CommitFault). */
  readonly commitFault?: CommitFault;
}

type Bytes = Uint8Array;
/**
 * msgpackr's REUSE_BUFFER_MODE flag (512 in lmdb-js's own msgpackr 1.x as in 2.x; not imported: lmdb-js bundles its
 * own copy): encode() returns its working buffer with the value at [start, end), valid until the next encode,
 * instead of a new view per value. So nothing may encode between that call and copying the bytes out.
 */
const REUSE_BUFFER = 512;
type Reused = Buffer & { start: number; end: number };

export class ActorStore {
  readonly #env: ThreadEnv;
  readonly #root: RootDatabase;
  readonly #snapshots: Database<Snapshot, string>;
  readonly #history: Database<Snapshot, Key>; // [actorId, seq]
  readonly #journal: Database<Uint8Array, Key>; // [actorId, first seq] -> segment of framed messages
  readonly #messageIds: Database<number, Key>; // [actorId, messageId] -> seq
  readonly #deliveries: Database<DeliveryRecord, string>; // actorId -> replays of its journal's head
  readonly #poison: Database<PoisonMessage, Key>; // [actorId, seq] -> a message set aside
  readonly #keepSnapshots: number;
  readonly #writes: GroupCommit;
  readonly #observe: StoreObserver | undefined;
  #closing: Promise<void> | undefined;

  private constructor(env: ThreadEnv, options: ActorStoreOptions) {
    this.#env = env;
    const root = (this.#root = env.root);
    ({ snapshots: this.#snapshots, history: this.#history, journal: this.#journal, messageIds: this.#messageIds, deliveries: this.#deliveries, poison: this.#poison } = env);
    this.#keepSnapshots = positiveInt('keepSnapshots', options.keepSnapshots ?? 1);
    this.#observe = options.observe;
    this.#writes = new GroupCommit(root, options.timers, options.observe?.commit, options.gate, options.commitFault);
  }

  static open(dir: string, options: ActorStoreOptions = {}): ActorStore {
    positiveInt('keepSnapshots', options.keepSnapshots ?? 1);
    return new ActorStore(acquireEnv(dir), options); // this thread's handle of dir (thread-envs.ts)
  }

  /**
   * LMDB commits made through this thread's handle of the directory (every store open on it on this thread):
   * lets tests and metrics see group commit at work.
   */
  get commitCount(): number {
    return this.#writes.commits;
  }

  close(): Promise<void> {
    this.#closing ??= this.#writes
      .settled()
      .then(() => this.#root.flushed)
      .then(() => releaseEnv(this.#env));
    return this.#closing;
  }

  // --- reads (recovery) ---

  readSnapshot(actorId: string): Snapshot | undefined {
    checkPart('actorId', actorId);
    // A recovery read: drop the cached read transaction so a snapshot committed by another thread during this
    // event turn is visible (lmdb-js otherwise renews read snapshots only on a timer).
    this.#root.resetReadTxn();
    let value: unknown;
    try {
      value = this.#snapshots.get(actorId);
    } catch (cause) {
      throw SnapshotDecodeError.of(actorId, String((cause as Error)?.message ?? cause), cause);
    }
    if (value === undefined) return undefined;
    // msgpack decodes many garbage byte strings without complaint (a lone 0xC1 becomes an object): check the shape.
    if (!isSnapshot(value)) throw SnapshotDecodeError.of(actorId, 'not a {version, seq, state, at} record');
    return value;
  }

  /** Oldest first; empty unless keepSnapshots > 1. */
  snapshotHistory(actorId: string): Snapshot[] {
    checkPart('actorId', actorId);
    const entries = this.#history.getRange({ start: [actorId, 0], end: [actorId, Infinity] });
    return [...entries].map((e) => e.value);
  }

  /** The journal entries with seq > afterSeq, oldest first. Throws JournalDecodeError on an undecodable segment. */
  journalEntries(actorId: string, afterSeq = 0): JournalEntry[] {
    return this.journalSegments(actorId).flatMap((s) => s.entries.filter((e) => e.seq > afterSeq));
  }

  /** The actor's stored journal segments, oldest first (handled messages included until a snapshot removes them). */
  journalSegments(actorId: string): JournalSegment[] {
    checkPart('actorId', actorId);
    this.#root.resetReadTxn(); // recovery read, as in readSnapshot
    const segments: JournalSegment[] = [];
    for (const { key, value } of this.#journal.getRange({ start: [actorId, 0], end: [actorId, Infinity] })) {
      const first = (key as [string, number])[1];
      const entries = this.#decodeSegment(actorId, first, value);
      segments.push({ first, last: entries.at(-1)?.seq ?? first, entries });
    }
    return segments;
  }

  /** The message ids remembered for an actor, oldest (lowest seq) first. */
  rememberedIds(actorId: string): RememberedId[] {
    checkPart('actorId', actorId);
    this.#root.resetReadTxn(); // see this thread's latest commits
    const ids: RememberedId[] = [];
    for (const { key, value } of this.#messageIds.getRange({ start: [actorId] })) {
      if (!Array.isArray(key) || key[0] !== actorId) break;
      ids.push({ id: key[1] as string, seq: value });
    }
    return ids.sort((a, b) => a.seq - b.seq);
  }

  seenMessage(actorId: string, messageId: string): boolean {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    return this.#messageIds.doesExist([actorId, messageId]); // no decode: key presence is the answer
  }

  // --- writes (group-committed; each resolves once its commit is on disk) ---

  /**
   * Journal a message at `seq` (the caller hands out 1, 2, 3... per actor, in order). It joins the actor's segment
   * in the commit being gathered. With `remember`, its id is also remembered, in the same commit, until
   * forgetMessage: a retry with that id can then be recognised. Bad input (a key, an unencodable payload) throws
   * here, before anything is queued.
   */
  appendJournal(actorId: string, seq: number, message: JournalMessage, remember = false): SegmentAppend {
    checkPart('actorId', actorId);
    checkPart('message id', message.id);
    checkSeq(seq, 1);
    // A tuple, not an {seq, id, type, payload} object: msgpackr (no shared structures here) writes an object's keys
    // as a new record definition in every value; the tuple is ~20% cheaper to encode and 23 bytes smaller.
    // Encoded in the encoder's own buffer and copied into the segment at once (no bytes object per message).
    // A fifth element, the traceparent, only when there is one: untraced messages keep the old 4-tuple.
    const trace = message.trace;
    const tuple = trace === undefined || trace === '' ? [seq, message.id, message.type, message.payload] : [seq, message.id, message.type, message.payload, trace];
    const encoded = this.#encode(tuple, actorId, 'message', REUSE_BUFFER);
    const appended = this.#writes.appendToSegment(this.#journal, actorId, seq, encoded, encoded.start, encoded.end);
    if (remember) void this.#writes.put(this.#messageIds, [actorId, message.id], this.#encode(seq, actorId, 'message'));
    return appended;
  }

  /** Call `ride` when the next commit starts gathering writes, or after `withinMs` (see GroupCommit.joinNextBatch). */
  joinNextBatch(ride: () => void, withinMs: number): void {
    this.#writes.joinNextBatch(ride, withinMs);
  }

  /** See GroupCommit.aboutToStart. */
  commitAboutToStart(): boolean {
    return this.#writes.aboutToStart();
  }

  /** The group-commit batch now gathering writes (its segments may still grow), if any. */
  get openBatch(): number | undefined {
    return this.#writes.openBatch;
  }

  /**
   * Store the actor's snapshot, and remove the journal segments `removeSegments` (whose messages it contains the
   * effects of) in the same commit: the exactly-once step of a durable mailbox.
   */
  writeSnapshot(actorId: string, snapshot: Snapshot, { removeSegments = [], keep = this.#keepSnapshots }: SnapshotWriteOptions = {}): Promise<void> {
    try {
      checkPart('actorId', actorId);
      checkSeq(snapshot.seq, 0);
      for (const first of removeSegments) checkSeq(first, 1);
      positiveInt('keep', keep);
      const started = this.#observe === undefined ? 0 : performance.now();
      const bytes = this.#encode(snapshot, actorId, 'snapshot');
      const done = this.#writes.put(this.#snapshots, actorId, bytes);
      if (this.#observe !== undefined) {
        const observe = this.#observe;
        done.then(() => observe.snapshot(performance.now() - started), () => undefined);
      }
      if (keep > 1) this.#keepHistory(actorId, snapshot.seq, bytes, keep);
      if (removeSegments.length > 0) this.#writes.closeSegment(actorId);
      for (const first of removeSegments) void this.#writes.remove(this.#journal, [actorId, first]);
      return done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Stop remembering a message id (it left the actor's dedup window). */
  forgetMessage(actorId: string, messageId: string): Promise<void> {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    return this.#writes.remove(this.#messageIds, [actorId, messageId]);
  }

  deleteActor(actorId: string): Promise<void> {
    checkPart('actorId', actorId);
    this.#writes.closeSegment(actorId);
    return this.#writes.run(() => {
      this.#snapshots.remove(actorId);
      this.#deliveries.remove(actorId);
      for (const db of [this.#history, this.#journal, this.#messageIds, this.#poison]) {
        for (const key of keysOf(db, actorId)) db.remove(key);
      }
    });
  }

  // --- poison messages (recovery path only: persistence/poison.ts, runtime/replay.ts) ---

  /** The replays begun of the head of the actor's journal, as last recorded (a record of another seq is stale). */
  deliveryRecord(actorId: string): DeliveryRecord | undefined {
    checkPart('actorId', actorId);
    this.#root.resetReadTxn(); // a recovery read, as in readSnapshot
    let value: unknown;
    try {
      value = this.#deliveries.get(actorId);
    } catch {
      value = undefined; // unreadable: treated as none (deliveryFromStore)
    }
    return deliveryFromStore(value);
  }

  /** Record a replay about to begin; resolves once durable (the caller hands the message over only then). */
  recordDelivery(actorId: string, record: DeliveryRecord): Promise<void> {
    try {
      return this.#writes.put(this.#deliveries, actorId, this.#encode(deliveryToStore(actorId, record), actorId, 'message'));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Set a message aside as poison (keyed by its seq: storing it again after a crash overwrites, never duplicates).
   * Its removal from the journal is the caller's next snapshot, as for any message handled.
   */
  putPoison(actorId: string, message: PoisonMessage): Promise<void> {
    try {
      const record = poisonToStore(actorId, message);
      return this.#writes.put(this.#poison, [actorId, record.seq], this.#encode(record, actorId, 'message'));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The actor's poison messages, oldest (lowest seq) first. */
  poisonMessages(actorId: string): PoisonMessage[] {
    checkPart('actorId', actorId);
    this.#root.resetReadTxn(); // see what other threads set aside
    return [...this.#poison.getRange({ start: [actorId, 0], end: [actorId, Infinity] })].map((e) => e.value);
  }

  /** Forget a poison message (an operator dealt with it). Resolves to whether there was one, once durable. */
  async dropPoison(actorId: string, seq: number): Promise<boolean> {
    checkPart('actorId', actorId);
    checkSeq(seq, 1);
    this.#root.resetReadTxn();
    if (!this.#poison.doesExist([actorId, seq])) return false;
    await this.#writes.remove(this.#poison, [actorId, seq]);
    return true;
  }

  /** Resolves once every write issued so far is durable. */
  settled(): Promise<void> {
    return this.#writes.settled();
  }

  // --- plumbing ---

  /**
   * Drop history past what `keep` retains (keep 1: no history at all). Called when an actor starts, so lowering
   * keepSnapshots frees what a larger setting kept; a no-op (one range read) when nothing is past it.
   */
  trimHistory(actorId: string, keep = this.#keepSnapshots): Promise<void> | undefined {
    checkPart('actorId', actorId);
    positiveInt('keep', keep);
    const retained = keep > 1 ? keep : 0;
    if (keysOf(this.#history, actorId).length <= retained) return undefined;
    return this.#pruneHistory(actorId, retained);
  }

  #keepHistory(actorId: string, seq: number, bytes: Bytes, keep: number): void {
    void this.#writes.put(this.#history, [actorId, seq], bytes);
    void this.#pruneHistory(actorId, keep);
  }

  #pruneHistory(actorId: string, retained: number): Promise<void> {
    return this.#writes.run(() => {
      const keys = keysOf(this.#history, actorId);
      for (const key of keys.slice(0, Math.max(0, keys.length - retained))) this.#history.remove(key);
    });
  }

  #decodeSegment(actorId: string, first: number, value: Uint8Array): JournalEntry[] {
    try {
      return unframeSegment(value).map((bytes) => {
        const decoded = this.#decode(bytes);
        // [seq, id, type, payload, trace?]; stores written before that format hold {seq, id, type, payload} records.
        const entry = (Array.isArray(decoded) && (decoded.length === 4 || decoded.length === 5)
          ? { seq: decoded[0], id: decoded[1], type: decoded[2], payload: decoded[3], trace: decoded[4] }
          : decoded) as Partial<JournalEntry> | null | undefined;
        if (typeof entry?.seq !== 'number' || typeof entry.id !== 'string' || typeof entry.type !== 'string') {
          throw new Error('a message is not a [seq, id, type, payload, trace?] tuple');
        }
        const message: JournalEntry = { seq: entry.seq, id: entry.id, type: entry.type, payload: entry.payload };
        // A trace that is not a string is dropped, not fatal: the message matters, its trace is a hint.
        return typeof entry.trace === 'string' && entry.trace !== '' ? { ...message, trace: entry.trace } : message;
      });
    } catch (cause) {
      throw JournalDecodeError.of(actorId, first, String((cause as Error)?.message ?? cause), cause);
    }
  }

  /**
   * Encode now, with lmdb-js's own msgpackr encoder, rather than inside the transaction: the bytes then reflect
   * the value at call time even if the caller mutates it afterwards, and an unencodable value (e.g. a symbol)
   * throws before anything is queued.
   */
  #encode(value: unknown, actorId: string, what: 'message' | 'snapshot'): Bytes;
  #encode(value: unknown, actorId: string, what: 'message' | 'snapshot', mode: typeof REUSE_BUFFER): Reused;
  #encode(value: unknown, actorId: string, what: 'message' | 'snapshot', mode?: number): Bytes | Reused {
    try {
      return (this.#snapshots as unknown as { encoder: { encode(v: unknown, mode?: number): Bytes | Reused } }).encoder.encode(value, mode);
    } catch (cause) {
      throw UnencodableValueError.of(actorId, what, String((cause as Error)?.message ?? cause), cause);
    }
  }

  #decode(bytes: Bytes): unknown {
    return (this.#snapshots as unknown as { decoder: { decode(b: Bytes): unknown } }).decoder.decode(bytes);
  }
}

function isSnapshot(v: unknown): v is Snapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.version === 'number' && typeof s.seq === 'number' && typeof s.at === 'number' && 'state' in s;
}
