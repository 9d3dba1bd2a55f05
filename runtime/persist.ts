import type { ActorDefinition, PersistenceSpec } from '../actors/define.ts';
import type { ActorStore, JournalEntry, Snapshot } from '../persistence/store.ts';
import { SnapshotCadence } from '../persistence/cadence.ts';
import { migrateSnapshot } from '../persistence/migrate.ts';
import type { Clock } from './clock.ts';
import { rootLogger } from './logger.ts';

/**
 * One persistent actor's link to the store. It remembers the state of the last snapshot written (the point a
 * restarted incarnation resumes from: reading the store back could miss a snapshot whose commit is still in
 * flight), decides when to snapshot (cadence), and for a durable mailbox runs the exactly-once step.
 */
export class ActorPersistence {
  readonly durable: boolean;
  /** Messages applied (the journal sequence number of the last one, for a durable mailbox). */
  seq: number;
  /** State of the last snapshot written or restored: where a restart resumes. */
  lastState: unknown;
  /** Durable mailbox: ids journaled but not yet handled (with the store's committed ids, the dedup set). */
  readonly pending = new Set<string>();
  private readonly cadence: SnapshotCadence;
  private readonly version: number;
  private sinceSnapshot = 0;
  private writeQueued = false;
  /** The most recent write: termination waits for it, so a new incarnation reads what this one wrote. */
  private lastWrite: Promise<unknown> | undefined;
  private lastAt: number;
  private timer: unknown;
  private current: unknown;

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
    this.version = spec.version ?? 1;
    this.seq = seq;
    this.lastState = state;
    this.current = state;
    this.lastAt = clock.now();
  }

  /**
   * Bring an actor back: its last snapshot (migrated to the current schema version) or `init`, and, for a durable
   * mailbox, the journaled messages not yet handled. A snapshot that cannot be decoded or migrated throws (the
   * stored data is left as it is) unless the definition opted into starting afresh (onBadSnapshot: 'reset').
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
    const journal = persistence.durable ? store.journalEntries(id) : [];
    for (const entry of journal) persistence.pending.add(entry.id);
    return { persistence, state, journal };
  }

  /** Was this message id already journaled or applied (a sender's retry)? */
  seen(messageId: string): boolean {
    return this.pending.has(messageId) || this.recent.includes(messageId) || this.store.seenMessage(this.id, messageId);
  }

  /** Durable mailbox: journal a message; resolves with its sequence number once durable (the acknowledgement). */
  append(messageId: string, type: string, payload: unknown): Promise<number> {
    this.pending.add(messageId);
    const appended = this.store.appendJournal(this.id, { id: messageId, type, payload }).then(
      (seq) => {
        this.appending.delete(messageId);
        return seq;
      },
      (err: unknown) => {
        this.appending.delete(messageId);
        this.pending.delete(messageId);
        throw err;
      },
    );
    this.appending.set(messageId, appended);
    return appended;
  }

  /**
   * A retry of a message whose original is still being journaled: acknowledge it only once the original is
   * durable (acknowledging earlier would lose it to a crash in between). Undefined when nothing is in flight.
   */
  inFlight(messageId: string): Promise<number> | undefined {
    return this.appending.get(messageId);
  }

  private readonly appending = new Map<string, Promise<number>>();

  /**
   * Durable mailbox, exactly-once step: the new snapshot and the removal of message `seq` from the journal in one
   * transaction (a crash of its handler commits the unchanged state: the message is consumed, not redelivered).
   * Resolves once durable.
   */
  handled(seq: number, messageId: string, state: unknown): Promise<void> {
    this.seq = seq;
    this.lastState = state;
    const done = this.store.commitHandled(this.id, { seq, messageId, snapshot: this.snapshot(state) });
    // The id leaves `pending` only once the store can answer for it; this thread's LMDB read snapshot is renewed
    // a moment after a commit, so the last few ids are also kept in memory.
    this.lastWrite = done.then(() => this.forgetPending(messageId), () => undefined);
    return done;
  }

  private readonly recent: string[] = [];

  private forgetPending(messageId: string): void {
    this.pending.delete(messageId);
    this.recent.push(messageId);
    if (this.recent.length > 64) this.recent.shift();
  }

  /**
   * Plain persistent actor: a message was applied; snapshot when the cadence says so. The write is deferred to the
   * end of the current task, so many messages handled in one scheduler turn cost one snapshot (of the last state),
   * group-committed with every other actor's; nothing waits for it.
   */
  applied(state: unknown): void {
    this.seq++;
    this.sinceSnapshot++;
    this.current = state;
    const now = this.clock.now();
    if (this.cadence.shouldSnapshot(now, this.sinceSnapshot, this.lastAt)) {
      this.lastAt = now;
      if (!this.writeQueued) {
        this.writeQueued = true;
        queueMicrotask(() => {
          this.writeQueued = false;
          if (this.sinceSnapshot > 0) void this.write(this.clock.now());
        });
      }
      return;
    }
    const due = this.cadence.dueAt(this.sinceSnapshot, this.lastAt);
    if (due !== undefined && this.timer === undefined) {
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        if (this.sinceSnapshot > 0) this.write(this.clock.now());
      }, Math.max(0, due - now));
    }
  }

  /** Write what is pending before the actor goes away (stop, shutdown); resolves once every write is durable. */
  flush(): Promise<unknown> | undefined {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (!this.durable && this.sinceSnapshot > 0) void this.write(this.clock.now());
    return this.lastWrite;
  }

  private write(now: number): Promise<void> {
    this.sinceSnapshot = 0;
    this.lastAt = now;
    this.lastState = this.current;
    const done = this.store.writeSnapshot(this.id, this.snapshot(this.current));
    this.lastWrite = done.catch((err: unknown) => rootLogger().error({ actor: this.id, err }, 'snapshot write failed'));
    return done;
  }

  private snapshot(state: unknown): Snapshot {
    return { version: this.version, seq: this.seq, state, at: Date.now() };
  }
}
