import type { ActorDefinition, PersistenceSpec } from '../actors/define.ts';
import type { ActorStore, JournalEntry, Snapshot } from '../persistence/store.ts';
import { SnapshotCadence } from '../persistence/cadence.ts';
import { DedupWindow } from '../persistence/dedup-window.ts';
import { migrateSnapshot } from '../persistence/migrate.ts';
import type { Clock } from './clock.ts';
import { rootLogger } from './logger.ts';

export const DEFAULT_DEDUP_WINDOW = 1024;
/** A snapshot nobody waits for rides along with the next commit, or is written on its own after this long. */
export const LAZY_SNAPSHOT_MS = 5;

/** A message journaled by `append`: its sequence number now, and the promise of its durability. */
export interface Appended {
  readonly seq: number;
  readonly written: Promise<void>;
}

/**
 * One persistent actor's link to the store. It hands out the journal's sequence numbers (an actor lives on one
 * thread at a time), keeps the number of sender-given ids it remembers within its dedup window (the ids are in
 * LMDB; in memory only those whose commit is in flight), remembers the state of the last snapshot
 * (the point a restarted incarnation resumes from: reading the store back could miss a commit still in flight),
 * and decides when to snapshot. Snapshots are written at most once per actor per event-loop task, of the latest
 * state, and group-committed with every other write of that stretch (persistence/group-commit.ts).
 */
export class ActorPersistence {
  readonly durable: boolean;
  /** Messages applied (for a durable mailbox: the journal seq of the last one handled). */
  seq: number;
  /** State a restart resumes from: the last snapshot written (durable mailbox: the last message handled). */
  lastState: unknown;
  private readonly cadence: SnapshotCadence;
  /** Durable mailbox: handled tells and sends between snapshots (1: a snapshot after each; snapshot.everyMessages). */
  private readonly durableEvery: number;
  private readonly version: number;
  private readonly keep: number | undefined;
  private readonly window: DedupWindow;
  /** Sender-given ids being journaled: a retry of one is acknowledged once the original is durable. */
  private readonly appending = new Map<string, { seq: number; written: Promise<void> }>();
  /** Sender-given ids remembered in the store (approximately: corrected at each eviction). */
  private rememberedCount = 0;
  /** Last seq handed out to a journaled message. */
  private lastSeq: number;
  /** Journal segments still stored, oldest first; a snapshot removes those it covers, once they are closed. */
  private readonly segments: Array<{ first: number; last: number; batch: number }> = [];
  private sinceSnapshot = 0;
  private lastAt: number;
  private timer: unknown;
  private current: unknown;
  /** The snapshot write queued for the end of this task, and the promise callers of `handled` wait on. */
  private queued: { done: Promise<void>; settle(p: Promise<void>): void } | undefined;
  /** The most recent write (any kind): termination waits for it, so a new incarnation reads what this one wrote. */
  private lastWrite: Promise<void> | undefined;
  private lastTracked: Promise<void> | undefined;

  private constructor(
    private readonly store: ActorStore,
    private readonly id: string,
    spec: PersistenceSpec,
    private readonly clock: Clock,
    seq: number,
    state: unknown,
  ) {
    this.durable = spec.durableMailbox === true;
    this.cadence = new SnapshotCadence(spec.snapshot ?? { every: 'message' });
    this.durableEvery = this.durable && spec.snapshot !== undefined && 'everyMessages' in spec.snapshot ? spec.snapshot.everyMessages : 1;
    this.version = spec.version ?? 1;
    this.keep = spec.keepSnapshots;
    this.window = new DedupWindow(spec.dedupWindow ?? DEFAULT_DEDUP_WINDOW);
    this.seq = seq;
    this.lastSeq = seq;
    this.lastState = state;
    this.current = state;
    this.lastAt = clock.now();
  }

  /**
   * Bring an actor back: its last snapshot (migrated to the current schema version) or `init`, and, for a durable
   * mailbox, the journaled messages the snapshot does not cover (not yet handled), oldest first, and the message
   * ids it remembers. A snapshot that cannot be decoded or migrated throws (the stored data is left as it is)
   * unless the definition opted into starting afresh (onBadSnapshot: 'reset').
   */
  static restore(store: ActorStore, id: string, def: ActorDefinition, args: unknown, clock: Clock): { persistence: ActorPersistence; state: unknown; journal: JournalEntry[] } {
    const spec = def.persistence!;
    let snap: Snapshot | undefined;
    let state: unknown;
    try {
      snap = store.readSnapshot(id);
      if (snap !== undefined) state = migrateSnapshot(snap, spec.version ?? 1, spec.migrations ?? {});
    } catch (err) {
      if (spec.onBadSnapshot !== 'reset') throw err;
      rootLogger().warn({ actor: id, err }, 'bad snapshot: starting from init (onBadSnapshot: reset)');
      snap = undefined;
    }
    if (snap === undefined) state = def.init(args);
    const persistence = new ActorPersistence(store, id, spec, clock, snap?.seq ?? 0, state);
    if (!persistence.durable) return { persistence: persistence.trimmed(), state, journal: [] };
    // Messages at or below the snapshot's seq were handled (their segment also holds later ones, or the snapshot
    // is a reset's): they are not redelivered, and the next snapshot removes their segments.
    const segments = store.journalSegments(id);
    const journal = segments.flatMap((s) => s.entries.filter((e) => e.seq > persistence.seq));
    for (const { first, last } of segments) persistence.segments.push({ first, last, batch: 0 });
    // Never hand out a seq already used: after a reset (onBadSnapshot) the snapshot may be behind the journal and
    // the remembered ids, and the window is rebuilt in seq order.
    const remembered = store.rememberedIds(id);
    persistence.lastSeq = Math.max(persistence.seq, segments.at(-1)?.last ?? 0, remembered.at(-1)?.seq ?? 0);
    persistence.rememberedCount = remembered.length;
    if (persistence.window.due(remembered.length)) persistence.evict(); // the window was made smaller
    return { persistence: persistence.trimmed(), state, journal };
  }

  /** The restore succeeded: history a larger keepSnapshots left behind goes now (the definition dropped it). */
  private trimmed(): this {
    const trim = this.store.trimHistory(this.id, this.keep);
    if (trim !== undefined) this.track(trim);
    return this;
  }

  /** Was this message id already received (journaled or handled, within the dedup window)? */
  seen(messageId: string): boolean {
    if (this.appending.has(messageId)) return true;
    try {
      return this.store.seenMessage(this.id, messageId);
    } catch {
      return false; // not a storable id: the append rejects it with a named error
    }
  }

  /**
   * A retry of a message whose original is still being journaled: acknowledge it only once the original is
   * durable (acknowledging earlier would lose it to a crash in between). Undefined when nothing is in flight.
   */
  inFlight(messageId: string): Promise<void> | undefined {
    return this.appending.get(messageId)?.written;
  }

  /**
   * Durable mailbox: journal a message under the next seq. With `remember` (the sender chose the id, so it may
   * retry with it) the id joins the dedup window, in the same commit.
   */
  append(messageId: string, type: string, payload: unknown, remember: boolean, trace = ''): Appended {
    const seq = this.lastSeq + 1;
    let appended;
    try {
      appended = this.store.appendJournal(this.id, seq, { id: messageId, type, payload, trace }, remember);
    } catch (err) {
      return { seq, written: Promise.reject(err) }; // nothing queued, the seq is not used
    }
    this.lastSeq = seq;
    const written = appended.done;
    const tail = this.segments.at(-1);
    if (tail !== undefined && tail.first === appended.segment) tail.last = seq;
    else this.segments.push({ first: appended.segment, last: seq, batch: appended.batch });
    this.track(written);
    if (remember) {
      this.appending.set(messageId, { seq, written });
      this.rememberedCount++;
      if (this.window.due(this.rememberedCount)) this.evict();
      written.then(
        () => this.appending.delete(messageId),
        () => {
          // The commit failed: the id was not stored (and whatever was forgotten with it is still there).
          this.appending.delete(messageId);
          this.rememberedCount--;
        },
      );
    }
    return { seq, written };
  }

  /**
   * Durable mailbox, exactly-once step: message `seq` was handled (or crashed its handler, state unchanged). The
   * new snapshot and the removal of the handled messages from the journal share one commit. When someone waits
   * (`urgent`: an ask to answer once the state is durable), it is written at the end of this task and the promise
   * resolves once durable. Otherwise the snapshot joins the next commit that happens anyway (typically the next
   * messages' journal writes), or is written on its own after LAZY_SNAPSHOT_MS: until then a crash replays those
   * messages from the journal, which is what the journal is for.
   */
  handled(seq: number, state: unknown, urgent: boolean): Promise<void> | undefined {
    this.seq = seq;
    this.lastState = state;
    this.current = state;
    this.sinceSnapshot++;
    if (urgent) return this.queueWrite();
    // snapshot: { everyMessages: n }: the messages since the last snapshot stay journaled; a restart handles them again.
    if (this.sinceSnapshot < this.durableEvery) return undefined;
    if (!this.lazy && this.queued === undefined) {
      this.lazy = true;
      this.store.joinNextBatch(this.ride, LAZY_SNAPSHOT_MS);
    }
    return undefined;
  }

  /** Journaled messages not yet handled (durable mailbox). */
  get pending(): number {
    return this.lastSeq - this.seq;
  }

  private lazy = false;
  /** A lazy snapshot's turn: written now, unless flushed or written meanwhile. */
  private readonly ride = (): void => {
    if (!this.lazy) return;
    this.lazy = false;
    if (this.sinceSnapshot > 0 && this.queued === undefined) void this.write();
  };

  /**
   * Plain persistent actor: a message was applied; snapshot when the cadence says so (at the end of this task,
   * so many messages handled in one scheduler turn cost one snapshot, of the last state). Nothing waits for it.
   */
  applied(state: unknown): void {
    this.seq++;
    this.sinceSnapshot++;
    this.current = state;
    // Every message or every N: decided without the clock (read per message, it was a fifth of this path).
    if (this.queued !== undefined && !this.cadence.timed) return; // a snapshot of the latest state is queued anyway
    const now = this.cadence.timed ? this.clock.now() : this.lastAt;
    if (this.cadence.shouldSnapshot(now, this.sinceSnapshot, this.lastAt)) {
      this.lastAt = now;
      void this.queueWrite();
      return;
    }
    const due = this.cadence.dueAt(this.sinceSnapshot, this.lastAt);
    if (due !== undefined && this.timer === undefined) {
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        if (this.sinceSnapshot > 0) void this.write();
      }, Math.max(0, due - now));
    }
  }

  /** Write what is pending before the actor goes away (stop, shutdown); resolves once every write is durable. */
  flush(): Promise<unknown> | undefined {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.lazy = false;
    const queued = this.queued;
    if (queued !== undefined) {
      this.queued = undefined;
      queued.settle(this.write());
    } else if (this.sinceSnapshot > 0) void this.write();
    return this.lastWrite;
  }

  /**
   * Forget the oldest remembered ids down to the window: those stored (read back from LMDB, oldest first), then
   * those still in flight (their removal is queued after their put, so it lands in the same or a later commit).
   */
  private evict(): void {
    const inFlight = [...this.appending].map(([id, a]) => ({ id, seq: a.seq })).sort((a, b) => a.seq - b.seq);
    const stored = this.store.rememberedIds(this.id).filter((r) => !this.appending.has(r.id));
    const all = [...stored, ...inFlight];
    for (const { id } of this.window.evict(all)) {
      this.track(this.store.forgetMessage(this.id, id));
      this.appending.delete(id);
    }
    this.rememberedCount = Math.min(all.length, this.window.size);
  }

  private queueWrite(): Promise<void> {
    if (this.queued !== undefined) return this.queued.done;
    let settle!: (p: Promise<void>) => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    done.catch(() => undefined); // a failure is logged by track(); askers waiting on `done` see it too
    const queued = { done, settle };
    this.queued = queued;
    queueMicrotask(() => {
      if (this.queued !== queued) return; // flushed meanwhile
      this.queued = undefined;
      settle(this.sinceSnapshot > 0 ? this.write() : Promise.resolve());
    });
    return done;
  }

  private write(): Promise<void> {
    this.sinceSnapshot = 0;
    this.lastAt = this.clock.now();
    this.lastState = this.current;
    const snapshot: Snapshot = { version: this.version, seq: this.seq, state: this.current, at: Date.now() };
    // Segments whose every message is covered, except one still gathering messages in the open batch.
    const open = this.store.openBatch;
    let covered = 0;
    while (covered < this.segments.length && this.segments[covered].last <= this.seq && this.segments[covered].batch !== open) covered++;
    const removed = this.segments.splice(0, covered);
    const done = this.store.writeSnapshot(this.id, snapshot, { removeSegments: removed.map((s) => s.first), keep: this.keep });
    this.track(done);
    // Not removed after all: the next snapshot must remove them.
    if (covered > 0) done.catch(() => this.segments.unshift(...removed) && this.segments.sort((a, b) => a.first - b.first));
    return done;
  }

  private track(write: Promise<void>): void {
    // Messages of one commit share its promise: one catch per commit, not per message.
    if (write === this.lastTracked) return;
    this.lastTracked = write;
    const tracked = write.catch((err: unknown) => rootLogger().error({ actor: this.id, err }, 'persistence write failed'));
    // After the earlier writes too: one refused at once (an unencodable state) must not make termination report
    // the actor gone before a commit still in flight is on disk.
    const earlier = this.lastWrite;
    this.lastWrite = earlier === undefined ? tracked : earlier.then(() => tracked);
  }
}
