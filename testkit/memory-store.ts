import { Packr } from 'msgpackr';
import type { ActorStore, ActorStoreOptions, JournalEntry, JournalMessage, JournalSegment, PoisonMessage, RememberedId, Snapshot, SnapshotWriteOptions } from '../persistence/store.ts';
import type { CommitFault, SegmentAppend, Timers } from '../persistence/group-commit.ts';
import type { DeliveryRecord } from '../persistence/poison.ts';
import { deliveryFromStore, deliveryToStore, poisonToStore } from '../persistence/poison-records.ts';
import { MAX_SEGMENT_BYTES } from '../persistence/segment.ts';
import { checkPart, checkSeq, positiveInt } from '../persistence/keys.ts';
import { JournalDecodeError, SnapshotDecodeError, UnencodableValueError } from '../persistence/errors.ts';
import { Batch, Segment, TABLES, isSnapshot, type MemoryDisk, type TableName } from './memory-disk.ts';

export { MemoryDisk } from './memory-disk.ts';

/** Every public member of the LMDB store: what the runtime uses of it (persistence/store.ts). */
export type DurableStore = { [K in keyof ActorStore]: ActorStore[K] };

/**
 * The LMDB store's guarantees without LMDB, for simulations (`Simulation.start({ durable: 'memory' })`): the same
 * interface and validation, values encoded with msgpack when the call is made (so later mutation does not reach
 * the store, and an unencodable value throws at once), group commit (every write issued before the commit runs joins
 * one batch; the batch applies whole, in call order, or fails whole), journal segments per actor per commit, and a
 * write's promise resolving only once its batch is applied. A commit runs one microtask after its batch starts
 * (deterministic; no I/O). `kill()` is a process death: the open batch is lost, committed data stays on the disk.
 * Tested against the real store with the same operation sequences (test/testkit/memory-store.test.ts).
 */
export class MemoryStore implements DurableStore {
  readonly #disk: MemoryDisk;
  readonly #packr = new Packr();
  readonly #keepSnapshots: number;
  readonly #timers: Timers;
  readonly #fault: CommitFault | undefined;
  #open: Batch | undefined;
  #batches = 0;
  #commits = 0;
  #last: Promise<void> = Promise.resolve();
  #riders: Array<() => void> = [];
  #ridersTimer: unknown;
  #closed = false;
  #dead = false;

  constructor(disk: MemoryDisk, options: ActorStoreOptions = {}) {
    this.#disk = disk;
    this.#keepSnapshots = positiveInt('keepSnapshots', options.keepSnapshots ?? 1);
    this.#timers = options.timers ?? { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.#fault = options.commitFault;
  }

  static open(disk: MemoryDisk, options: ActorStoreOptions = {}): ActorStore {
    return new MemoryStore(disk, options) as unknown as ActorStore;
  }

  get commitCount(): number {
    return this.#commits;
  }
  get openBatch(): number | undefined {
    return this.#open?.number;
  }

  close(): Promise<void> {
    this.flush();
    return this.settled().then(() => void (this.#closed = true));
  }

  /** Commit the batch being gathered now (when its disk commits on flush; else it commits by itself). */
  flush(): void {
    this.#open?.start?.();
  }

  /** The process dies now: the batch being gathered never commits (its writes never settle); the disk stays. */
  kill(): void {
    this.#dead = true;
    this.#closed = true;
    this.#open = undefined;
  }

  // --- reads ---

  readSnapshot(actorId: string): Snapshot | undefined {
    checkPart('actorId', actorId);
    const bytes = this.#disk.tables.snapshots.get(actorId)?.get('');
    if (bytes === undefined) return undefined;
    let value: unknown;
    try {
      value = this.#packr.unpack(bytes);
    } catch (cause) {
      throw SnapshotDecodeError.of(actorId, String((cause as Error)?.message ?? cause), cause);
    }
    if (!isSnapshot(value)) throw SnapshotDecodeError.of(actorId, 'not a {version, seq, state, at} record');
    return value;
  }

  snapshotHistory(actorId: string): Snapshot[] {
    checkPart('actorId', actorId);
    return this.#sorted('history', actorId).map(([, b]) => this.#packr.unpack(b) as Snapshot);
  }

  journalEntries(actorId: string, afterSeq = 0): JournalEntry[] {
    return this.journalSegments(actorId).flatMap((s) => s.entries.filter((e) => e.seq > afterSeq));
  }

  journalSegments(actorId: string): JournalSegment[] {
    checkPart('actorId', actorId);
    return this.#sorted('journal', actorId).map(([first, bytes]) => {
      let entries: JournalEntry[];
      try {
        entries = (this.#packr.unpack(bytes) as Uint8Array[]).map((m) => {
          const [seq, id, type, payload, trace] = this.#packr.unpack(m) as [number, string, string, unknown, string?];
          return trace === undefined ? { seq, id, type, payload } : { seq, id, type, payload, trace };
        });
      } catch (cause) {
        throw JournalDecodeError.of(actorId, first as number, String((cause as Error)?.message ?? cause), cause);
      }
      return { first: first as number, last: entries.at(-1)?.seq ?? (first as number), entries };
    });
  }

  rememberedIds(actorId: string): RememberedId[] {
    checkPart('actorId', actorId);
    return [...(this.#disk.tables.messageIds.get(actorId) ?? [])].map(([id, b]) => ({ id: id as string, seq: this.#packr.unpack(b) as number })).sort((a, b) => a.seq - b.seq);
  }

  seenMessage(actorId: string, messageId: string): boolean {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    return this.#disk.tables.messageIds.get(actorId)?.has(messageId) === true;
  }

  deliveryRecord(actorId: string): DeliveryRecord | undefined {
    checkPart('actorId', actorId);
    const bytes = this.#disk.tables.deliveries.get(actorId)?.get('');
    return deliveryFromStore(bytes === undefined ? undefined : this.#packr.unpack(bytes));
  }

  poisonMessages(actorId: string): PoisonMessage[] {
    checkPart('actorId', actorId);
    return this.#sorted('poison', actorId).map(([, b]) => this.#packr.unpack(b) as PoisonMessage);
  }

  // --- writes ---

  appendJournal(actorId: string, seq: number, message: JournalMessage, remember = false): SegmentAppend {
    checkPart('actorId', actorId);
    checkPart('message id', message.id);
    checkSeq(seq, 1);
    const trace = message.trace;
    const encoded = this.#encode(trace === undefined || trace === '' ? [seq, message.id, message.type, message.payload] : [seq, message.id, message.type, message.payload, trace], actorId, 'message');
    const batch = this.#batch();
    let segment = batch.segments.get(actorId);
    if (segment === undefined || segment.bytes + 4 + encoded.length > MAX_SEGMENT_BYTES) {
      segment = new Segment(actorId, seq);
      batch.segments.set(actorId, segment);
      batch.ops.push({ segment });
    }
    segment.messages.push(encoded);
    segment.bytes += 4 + encoded.length;
    if (remember) void this.#put('messageIds', actorId, message.id, this.#encode(seq, actorId, 'message'));
    return { segment: segment.first, batch: batch.number, done: batch.done };
  }

  joinNextBatch(ride: () => void, withinMs: number): void {
    if (this.#open !== undefined) return queueMicrotask(ride);
    this.#riders.push(ride);
    this.#ridersTimer ??= this.#timers.setTimer(() => {
      this.#ridersTimer = undefined;
      this.#releaseRiders();
    }, withinMs);
  }

  commitAboutToStart(): boolean {
    const batch = this.#open;
    if (batch === undefined || batch.yielded) return false;
    batch.yielded = true;
    return true;
  }

  writeSnapshot(actorId: string, snapshot: Snapshot, { removeSegments = [], keep = this.#keepSnapshots }: SnapshotWriteOptions = {}): Promise<void> {
    try {
      checkPart('actorId', actorId);
      checkSeq(snapshot.seq, 0);
      for (const first of removeSegments) checkSeq(first, 1);
      positiveInt('keep', keep);
      const bytes = this.#encode(snapshot, actorId, 'snapshot');
      const done = this.#put('snapshots', actorId, '', bytes);
      if (keep > 1) {
        void this.#put('history', actorId, snapshot.seq, bytes);
        void this.#run(() => this.#prune(actorId, keep));
      }
      if (removeSegments.length > 0) this.#open?.segments.delete(actorId);
      for (const first of removeSegments) void this.#put('journal', actorId, first, undefined);
      return done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  forgetMessage(actorId: string, messageId: string): Promise<void> {
    checkPart('actorId', actorId);
    checkPart('message id', messageId);
    return this.#put('messageIds', actorId, messageId, undefined);
  }

  deleteActor(actorId: string): Promise<void> {
    checkPart('actorId', actorId);
    this.#open?.segments.delete(actorId);
    return this.#run(() => {
      for (const t of TABLES) this.#disk.tables[t].delete(actorId);
    });
  }

  recordDelivery(actorId: string, record: DeliveryRecord): Promise<void> {
    try {
      return this.#put('deliveries', actorId, '', this.#encode(deliveryToStore(actorId, record), actorId, 'message'));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  putPoison(actorId: string, message: PoisonMessage): Promise<void> {
    try {
      const record = poisonToStore(actorId, message);
      return this.#put('poison', actorId, record.seq, this.#encode(record, actorId, 'message'));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async dropPoison(actorId: string, seq: number): Promise<boolean> {
    checkPart('actorId', actorId);
    checkSeq(seq, 1);
    if (this.#disk.tables.poison.get(actorId)?.has(seq) !== true) return false;
    await this.#put('poison', actorId, seq, undefined);
    return true;
  }

  settled(): Promise<void> {
    return this.#last.then(() => undefined, () => undefined);
  }

  trimHistory(actorId: string, keep = this.#keepSnapshots): Promise<void> | undefined {
    checkPart('actorId', actorId);
    positiveInt('keep', keep);
    const retained = keep > 1 ? keep : 0;
    if ((this.#disk.tables.history.get(actorId)?.size ?? 0) <= retained) return undefined;
    return this.#run(() => this.#prune(actorId, retained));
  }

  // --- plumbing ---

  #prune(actorId: string, retained: number): void {
    const keys = this.#sorted('history', actorId).map(([k]) => k);
    for (const k of keys.slice(0, Math.max(0, keys.length - retained))) this.#disk.tables.history.get(actorId)!.delete(k);
  }

  #sorted(table: TableName, actorId: string): Array<[string | number, Uint8Array]> {
    return [...(this.#disk.tables[table].get(actorId) ?? [])].sort((a, b) => (a[0] as number) - (b[0] as number));
  }

  #put(table: TableName, actor: string, key: string | number, value: Uint8Array | undefined): Promise<void> {
    const batch = this.#batch();
    batch.ops.push({ table, actor, key, value });
    return batch.done;
  }

  #run(fn: () => void): Promise<void> {
    const batch = this.#batch();
    batch.ops.push({ run: fn });
    return batch.done;
  }

  #batch(): Batch {
    if (this.#open !== undefined) return this.#open;
    const batch = new Batch(++this.#batches);
    if (this.#closed) {
      // as LMDB's transaction on a closed environment: the batch fails whole, and is never open
      batch.done = Promise.reject(new Error('the store is closed'));
      batch.done.catch(() => undefined);
      return batch;
    }
    this.#open = batch;
    const started = this.#disk.commitOnFlush ? new Promise<void>((r) => (batch.start = r)) : Promise.resolve();
    const committed = started.then(() => this.#commit(batch));
    // A batch lost with its process never settles; what waits for the store (settled(), close()) does not wait for it.
    batch.done = committed.then((lost) => (lost ? new Promise<void>(() => undefined) : undefined));
    batch.done.catch(() => undefined);
    this.#last = committed.then(() => undefined, () => undefined);
    if (this.#riders.length > 0) queueMicrotask(() => this.#releaseRiders());
    return batch;
  }

  /** Apply a batch whole, in call order (or fail it whole); true: it is lost (a killed handle's, a vanished one). */
  #commit(batch: Batch): boolean {
    if (this.#open === batch) this.#open = undefined;
    if (this.#dead) return true;
    const disk = this.#disk;
    if (disk.failCommits > 0) {
      disk.failCommits--;
      throw new Error(`injected commit failure of batch ${batch.number}`);
    }
    const refused = this.#fault?.(batch.number);
    if (refused === 'vanish') return true;
    if (refused !== undefined) throw refused;
    for (const op of batch.ops) {
      if ('run' in op) op.run();
      else if ('segment' in op) disk.row('journal', op.segment.actor).set(op.segment.first, this.#packr.pack(op.segment.messages));
      else if (op.value === undefined) disk.tables[op.table].get(op.actor)?.delete(op.key);
      else disk.row(op.table, op.actor).set(op.key, op.value);
    }
    disk.commits++;
    this.#commits++;
    return false;
  }

  #releaseRiders(): void {
    if (this.#ridersTimer !== undefined) this.#timers.clearTimer(this.#ridersTimer);
    this.#ridersTimer = undefined;
    const riders = this.#riders;
    this.#riders = [];
    for (const ride of riders) ride();
  }

  #encode(value: unknown, actorId: string, what: 'message' | 'snapshot'): Uint8Array {
    try {
      return this.#packr.pack(value);
    } catch (cause) {
      throw UnencodableValueError.of(actorId, what, String((cause as Error)?.message ?? cause), cause);
    }
  }
}
