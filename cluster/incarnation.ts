import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { ActorRef } from '../actors/define.ts';
import type { ThreadServices } from '../runtime/extensions.ts';
import { errorToData } from '../runtime/errors.ts';
import { decode, Mode, type JournalFrame } from './codec.ts';
import { BARRIER } from './failover-shell.ts';
import type { Ownership } from './registry.ts';
import type { Remote } from './remote.ts';
import { SnapshotCadence } from './snapshot-policy.ts';
import type { SnapshotStore } from './snapshots.ts';

/** An answer that never comes is forgotten after this long (as in remote.ts). */
const LONG_MS = 10 * 60_000;

/** What an incarnation needs of the node hosting it (cluster/failover.ts). */
export interface IncarnationHost {
  readonly services: ThreadServices;
  readonly remote: Remote;
  readonly snapshots: SnapshotStore;
  readonly js: JetStreamClient;
  readonly stream: string;
  subject(id: string): string;
  /** May this node apply journaled mail now (its lease confirmed recently)? */
  fresh(): boolean;
  /** It may not: confirm the lease, renewing tokens or giving actors up, then drain again. */
  fence(): void;
  /** Is this incarnation still the one hosted for its id? */
  current(inc: Incarnation): boolean;
  /** A newer owner holds it: stop this one. */
  giveUp(inc: Incarnation): void;
  /** The committed state of a local actor. */
  stateOf(localId: string): Promise<unknown>;
}

/**
 * One failover actor hosted here: its incarnation (a local actor named after its fencing token) fed from its
 * journal after the snapshot it resumed from. It applies frames in journal order while the node's lease is fresh;
 * answers wait until the journal as it was at takeover is handled (no answer comes from a state still catching up);
 * every `snapshotEvery` frames its state goes to the snapshot bucket and the journal is trimmed up to there.
 */
export class Incarnation {
  /** Journal frames received, not applied yet, with their stream sequence. */
  readonly queue: Array<[seq: number, frame: JournalFrame]> = [];
  /** Frames of the journal as it was at takeover still to apply; answers wait (held) until they are handled. */
  private replayLeft = 0;
  private replaying = true;
  private readonly held: Array<() => void> = [];
  private readonly cadence: SnapshotCadence;
  /** A snapshot is reading the state: nothing more is applied until it has. */
  private paused = false;
  /** Crashed, waiting for its supervisor (an owned child's backoff): nothing more is applied until resume(). */
  private suspended = false;
  /** Frames handed since the last window barrier, and whether that barrier is awaited (a bounded mailbox). */
  private handed = 0;
  private windowFull = false;
  /** A circuit's trial admitted: called once the next message handed is handled without a crash. */
  private trialOk: (() => void) | undefined;
  /** Journal frames received from the feed, and applied (diagnostics). */
  received = 0;
  applied = 0;
  private closeFeed = () => {};

  constructor(
    private readonly host: IncarnationHost,
    readonly id: string,
    readonly ref: ActorRef,
    /** The fencing token (renewed by the node's fence). */
    public revision: number,
    readonly owned: Ownership,
    /** Stream sequence of the last frame applied: what a snapshot taken now stands for. */
    private lastSeq: number,
    /** An adopted incarnation applies nothing before this (clock.now()): the old owner has stopped by then. */
    private readonly applyFrom: number,
    snapshotEvery: number,
    /** At most this many frames handed to the incarnation before a barrier confirms them handled (0: no limit). */
    public window = 0,
  ) {
    this.cadence = new SnapshotCadence(snapshotEvery);
  }

  /** The journal after the snapshot's seq: the state becomes the fold of every message journaled. */
  async feed(): Promise<void> {
    const { js, stream } = this.host;
    const seq = this.lastSeq;
    const from = seq === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq + 1 };
    const consumer = await js.consumers.get(stream, { filter_subjects: this.host.subject(this.id), ...from });
    this.replayLeft = (await consumer.info(true)).num_pending;
    if (this.replayLeft === 0) this.replayed();
    const feed = await consumer.consume({
      callback: (m) => {
        if (!this.host.current(this)) return;
        this.received++;
        this.queue.push([m.seq, decode<JournalFrame>(m.data)]);
        this.drain();
      },
    });
    this.closeFeed = () => void feed.close().catch(() => {});
  }

  drain(): void {
    const wait = this.applyFrom - this.host.services.clock.now();
    if (wait > 0 && this.queue.length > 0) {
      setTimeout(() => this.host.current(this) && this.drain(), wait + 1).unref();
      return;
    }
    while (this.queue.length > 0 && !this.paused && !this.suspended && !this.windowFull) {
      if (!this.host.fresh()) return this.host.fence();
      const [seq, frame] = this.queue.shift()!;
      this.applied++;
      this.lastSeq = seq;
      this.apply(frame);
      if (this.replayLeft > 0 && --this.replayLeft === 0) this.replayed();
      if (this.cadence.applied()) this.snapshot();
      if (this.window > 0 && ++this.handed >= this.window) this.awaitWindow();
    }
  }

  /** A bounded mailbox: the next frames wait (here, in order) until those handed so far are handled. */
  private awaitWindow(): void {
    this.windowFull = true;
    const open = () => {
      this.windowFull = false;
      this.handed = 0;
      const trialOk = this.suspended ? undefined : this.trialOk;
      this.trialOk = undefined;
      trialOk?.();
      if (this.host.current(this)) this.drain();
    };
    this.host.services.ask(this.ref, BARRIER, undefined, '', LONG_MS).then(open, open);
  }

  /** Crashed, its supervisor deciding: the journal's frames wait (in order) until resume(). True: on its trial. */
  suspend(): boolean {
    this.suspended = true;
    const trial = this.trialOk !== undefined && this.handed > 0;
    if (trial) this.trialOk = undefined;
    return trial;
  }

  /** Restarted, or (with `trialOk`) admitted for one trial: told once its next message is handled without a crash. */
  resume(trialOk?: () => void): void {
    if (trialOk !== undefined) this.trialOk = trialOk;
    if (!this.suspended) return;
    this.suspended = false;
    if (this.host.current(this)) this.drain();
  }

  /** Applies nothing more, answers nothing more (given up, or the node is leaving). */
  stop(): void {
    this.queue.length = 0;
    this.held.length = 0;
    this.closeFeed();
  }

  private apply([mode, type, payload, from, corr, messageId, replyTo]: JournalFrame): void {
    const { services, remote } = this.host;
    if (mode === Mode.Tell) return services.tell(this.ref, type, payload, from);
    if (mode === Mode.Send) return void services.send(this.ref, type, payload, from, messageId, LONG_MS).catch(() => {});
    const answer = (code: number, value: unknown) => {
      if (this.replaying) this.held.push(() => remote.answer(replyTo, corr, code, value));
      else remote.answer(replyTo, corr, code, value);
    };
    services.ask(this.ref, type, payload, from, LONG_MS).then((value) => answer(1, value), (err: unknown) => answer(0, errorToData(err)));
  }

  /** Every frame of the journal as it was at takeover is applied: once handled, answers go out (those held first). */
  private replayed(): void {
    const release = () => {
      this.replaying = false;
      for (const answer of this.held.splice(0)) answer();
    };
    this.host.services.ask(this.ref, BARRIER, undefined, '', LONG_MS).then(release, release);
  }

  /**
   * The state after the last frame applied, into the snapshot bucket at this incarnation's token; then the journal
   * up to that frame is trimmed. Nothing more is applied until the state is read (a barrier: every frame before it
   * handled). A newer owner's record (fenced) means this incarnation is stale: it stops.
   */
  private snapshot(): void {
    const { services, snapshots } = this.host;
    this.cadence.started();
    this.paused = true;
    const seq = this.lastSeq;
    const resume = () => {
      if (!this.paused) return;
      this.paused = false;
      if (this.host.current(this)) this.drain();
    };
    void (async () => {
      await services.ask(this.ref, BARRIER, undefined, '', LONG_MS);
      const state = await this.host.stateOf(this.ref.id);
      const written = snapshots.write(this.id, this.revision, seq, state); // encodes the state before it resumes
      resume();
      const outcome = await written;
      if (outcome === 'fenced') return this.host.giveUp(this);
      if (outcome === 'written') await snapshots.trim(this.host.subject(this.id), seq);
    })().catch((err: unknown) => {
      if (process.env.TROUPE_CLUSTER_DEBUG) console.error(`snapshot of ${this.id} failed:`, err);
    }).finally(() => {
      resume();
      this.cadence.finished();
    });
  }
}
