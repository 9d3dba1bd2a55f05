import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { ThreadServices } from '../runtime/extensions.ts';
import { DefinitionLoadError, errorToData } from '../runtime/errors.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { decode, Mode, type JournalFrame } from './codec.ts';
import { BARRIER, failoverShell, type ShellArgs } from './failover-shell.ts';
import { JournalWriter } from './journal-out.ts';
import { idToKey } from './keys.ts';
import type { NodeRegistry } from './nodes.ts';
import { preferredNode } from './placement.ts';
import type { ActorRegistry, Ownership } from './registry.ts';
import type { Remote } from './remote.ts';
import { SnapshotCadence } from './snapshot-policy.ts';
import { SnapshotStore } from './snapshots.ts';

/** A failover actor hosted here: its incarnation (a local actor named after its fencing token) and its journal feed. */
interface Hosted {
  id: string;
  ref: ActorRef;
  revision: number;
  owned: Ownership;
  /** Journal frames received, not applied yet, with their stream sequence. */
  queue: Array<[seq: number, frame: JournalFrame]>;
  /** An adopted incarnation applies nothing before this (clock.now()): the old owner has stopped by then. */
  applyFrom: number;
  /** Frames of the journal as it was at takeover still to apply; answers wait (held) until they are handled. */
  replayLeft: number;
  replaying: boolean;
  held: Array<() => void>;
  /** Stream sequence of the last frame applied: what a snapshot taken now stands for. */
  lastSeq: number;
  cadence: SnapshotCadence;
  /** A snapshot is reading the state: nothing more is applied until it has. */
  paused: boolean;
  /** Journal frames received from the feed, and applied (diagnostics: stats()). */
  received: number;
  applied: number;
  stop(): void;
}

/** Snapshot a failover actor every this many journal messages unless spawnFailover says otherwise (0: never). */
export const DEFAULT_SNAPSHOT_EVERY = 100;

/** An answer that never comes is forgotten after this long (as in remote.ts). */
const LONG_MS = 10 * 60_000;

/**
 * Failover actors: ids whose mail is journaled in a JetStream stream (one subject per actor) before anything
 * handles it, so any node can host them. The owner holds the id's key in the actors bucket; its revision is the
 * fencing token. When the owner's node is gone, survivors race to write the key at the revision they saw
 * (compare-and-set: one wins), and the winner hosts the actor again by replaying its journal from the start into a
 * fresh incarnation: the state is the journal's fold, so every acknowledged message is in it exactly once.
 * A node applies journaled mail only while its own key was confirmed within half the TTL; past that (a pause, a
 * partition) it first writes each of its actors' keys at its token: a failed write means someone took over, and
 * its incarnation is stopped before it applies anything more.
 */
export class Failover {
  private readonly hosted = new Map<string, Hosted>();
  /** Local ids of incarnations being spawned: their public id is claimed already, they need no claim of their own. */
  readonly incarnations = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly orphanSince = new Map<string, number>();
  private runtime: Runtime | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private fencing: Promise<void> | undefined;
  private joinedAt: number;
  private lastSweep = 0;
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly self: string,
    private readonly ttlMs: number,
    private readonly services: ThreadServices,
    private readonly registry: ActorRegistry,
    private readonly nodes: NodeRegistry,
    private readonly remote: Remote,
    private readonly snapshots: SnapshotStore,
  ) {
    this.joinedAt = services.clock.now();
    const writer = new JournalWriter(nc, js, stream, self, services, remote, (id) => this.subject(id));
    remote.journal = (...m) => writer.write(...m);
    // Someone else wrote the key of an actor hosted here (took it over): this incarnation is stale, stop it now.
    registry.onChange = (id, owner) => {
      const h = this.hosted.get(id);
      if (h !== undefined && (owner === undefined || owner.node !== this.self || (owner.revision !== undefined && owner.revision > h.revision && !this.renewing.has(id)))) this.giveUp(h);
    };
  }

  /** Ids whose token this node is rewriting itself (a fence): the watch will show its own write. */
  private readonly renewing = new Set<string>();

  static async open(nc: NatsConnection, cluster: string, self: string, ttlMs: number, services: ThreadServices, registry: ActorRegistry, nodes: NodeRegistry, remote: Remote): Promise<Failover> {
    const jsm = await jetstreamManager(nc);
    const stream = `troupe_${cluster}_journal`;
    const subjects = [`troupe.${cluster}.journal.>`];
    try {
      await jsm.streams.info(stream);
    } catch {
      await jsm.streams.add({ name: stream, subjects, duplicate_window: 120_000_000_000 }).catch(async (err) => {
        await jsm.streams.info(stream).catch(() => {
          throw err; // not made by a concurrent node either
        });
      });
    }
    const snapshots = await SnapshotStore.open(new Kvm(nc), jsm, cluster, stream, () => nc.info?.max_payload ?? 1024 * 1024);
    return new Failover(nc, jetstream(nc), stream, `troupe.${cluster}.journal.`, self, ttlMs, services, registry, nodes, remote, snapshots);
  }

  private subject(id: string): string {
    return this.subjectPrefix + idToKey(id);
  }

  /** Now that the runtime exists: host what this node is to host, and watch for orphans. */
  started(runtime: Runtime): void {
    this.runtime = runtime;
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.round(this.ttlMs / 4)));
    this.sweeper.unref();
  }

  /** Spawn a failover actor here (its id is claimed cluster-wide); the ref works from any node and survives this one. */
  async spawn<D extends ActorDefinition>(def: D, options: { id: string; args?: unknown; snapshotEvery?: number }): Promise<ActorRef<D>> {
    const { id, args, snapshotEvery } = options;
    const failover = snapshotEvery === undefined ? { module: def.module, args } : { module: def.module, args, snapshotEvery };
    this.pending.add(id);
    try {
      const revision = await this.registry.claim(id, def.kind, failover);
      await this.host(id, def, revision, { node: this.self, kind: def.kind, failover }, 0);
    } finally {
      this.pending.delete(id);
    }
    return Object.freeze({ id, kind: def.kind, node: 0 }) as ActorRef<D>;
  }

  /** The failover actors this node hosts now. */
  hostedIds(): string[] {
    return [...this.hosted.keys()].sort();
  }

  /** Per hosted actor: its token, frames received from its journal, applied, and waiting (diagnostics). */
  stats(): Record<string, { revision: number; received: number; applied: number; queued: number }> {
    return Object.fromEntries([...this.hosted.values()].map((h) => [h.id, { revision: h.revision, received: h.received, applied: h.applied, queued: h.queue.length }]));
  }

  /**
   * Host `id` here with token `revision`: claim its snapshot record (an old owner can no longer write one), start a
   * fresh incarnation from the snapshot's state, and feed it the journal after the snapshot's seq.
   */
  private async host(id: string, def: ActorDefinition, revision: number, owned: Ownership, applyFrom: number): Promise<void> {
    const snapshot = await this.snapshots.claim(id, revision);
    if (snapshot === 'fenced') throw new Error(`${id}: a newer owner holds its snapshot`);
    const local = `${id}~${revision}`;
    this.incarnations.add(local);
    let ref: ActorRef;
    try {
      const args: ShellArgs = { args: owned.failover?.args, restored: snapshot.hasState ? { state: snapshot.state } : undefined };
      ref = await this.runtime!.spawn(failoverShell(def), { id: local, args, pin: 0 });
    } finally {
      this.incarnations.delete(local);
    }
    const h: Hosted = {
      id, ref, revision, owned, queue: [], applyFrom, replayLeft: 0, replaying: true, held: [], lastSeq: snapshot.seq,
      cadence: new SnapshotCadence(owned.failover?.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY), paused: false, received: 0, applied: 0, stop: () => {},
    };
    this.hosted.set(id, h);
    try {
      await this.feed(h, snapshot.seq);
    } catch (err) {
      // No feed (a JetStream API call timed out under load...): not hosted after all; the sweep adopts it again.
      this.hosted.delete(id);
      void this.runtime?.stop(ref);
      throw err;
    }
  }

  /** The journal after `seq` (the snapshot's): the incarnation's state becomes the fold of every message journaled. */
  private async feed(h: Hosted, seq: number): Promise<void> {
    const id = h.id;
    const from = seq === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq + 1 };
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: this.subject(id), ...from });
    h.replayLeft = (await consumer.info(true)).num_pending;
    if (h.replayLeft === 0) this.replayed(h);
    const feed = await consumer.consume({
      callback: (m) => {
        if (this.hosted.get(id) !== h) return;
        h.received++;
        h.queue.push([m.seq, decode<JournalFrame>(m.data)]);
        this.drain(h);
      },
    });
    h.stop = () => void feed.close().catch(() => {});
  }

  /** Every frame of the journal as it was at takeover is applied: once handled, answers go out (those held first). */
  private replayed(h: Hosted): void {
    const release = () => {
      h.replaying = false;
      for (const answer of h.held.splice(0)) answer();
    };
    this.services.ask(h.ref, BARRIER, undefined, '', LONG_MS).then(release, release);
  }

  private fresh(): boolean {
    return this.services.clock.now() - this.nodes.confirmedAt <= this.ttlMs / 2;
  }

  private drain(h: Hosted): void {
    const wait = h.applyFrom - this.services.clock.now();
    if (wait > 0 && h.queue.length > 0) {
      setTimeout(() => this.hosted.get(h.id) === h && this.drain(h), wait + 1).unref();
      return;
    }
    while (h.queue.length > 0 && !h.paused) {
      if (!this.fresh()) return void this.fence();
      const [seq, frame] = h.queue.shift()!;
      h.applied++;
      h.lastSeq = seq;
      this.apply(h, frame);
      if (h.replayLeft > 0 && --h.replayLeft === 0) this.replayed(h);
      if (h.cadence.applied()) this.snapshot(h);
    }
  }

  private apply(h: Hosted, [mode, type, payload, from, corr, messageId, replyTo]: JournalFrame): void {
    if (mode === Mode.Tell) return this.services.tell(h.ref, type, payload, from);
    if (mode === Mode.Send) return void this.services.send(h.ref, type, payload, from, messageId, LONG_MS).catch(() => {});
    const answer = (code: number, value: unknown) => {
      if (h.replaying) h.held.push(() => this.remote.answer(replyTo, corr, code, value));
      else this.remote.answer(replyTo, corr, code, value);
    };
    this.services.ask(h.ref, type, payload, from, LONG_MS).then((value) => answer(1, value), (err: unknown) => answer(0, errorToData(err)));
  }

  /**
   * The state after the last frame applied, into the snapshot bucket at this incarnation's token; then the journal
   * up to that frame is trimmed. Nothing more is applied until the state is read (a barrier: every frame before it
   * handled). A newer owner's record (fenced) means this incarnation is stale: it stops.
   */
  private snapshot(h: Hosted): void {
    h.cadence.started();
    h.paused = true;
    const seq = h.lastSeq;
    const resume = () => {
      if (!h.paused) return;
      h.paused = false;
      if (this.hosted.get(h.id) === h) this.drain(h);
    };
    void (async () => {
      await this.services.ask(h.ref, BARRIER, undefined, '', LONG_MS);
      const state = (await this.runtime!.inspect(h.ref.id))?.state;
      const written = this.snapshots.write(h.id, h.revision, seq, state); // encodes the state before it resumes
      resume();
      const outcome = await written;
      if (outcome === 'fenced') return this.giveUp(h);
      if (outcome === 'written') await this.snapshots.trim(this.subject(h.id), seq);
    })().catch((err: unknown) => {
      if (process.env.TROUPE_CLUSTER_DEBUG) console.error(`snapshot of ${h.id} failed:`, err);
    }).finally(() => {
      resume();
      h.cadence.finished();
    });
  }

  /** Our key went unconfirmed too long: heartbeat, then renew each actor's token or give the actor up. */
  private fence(): Promise<void> {
    this.fencing ??= (async () => {
      try {
        const silentMs = this.services.clock.now() - this.nodes.confirmedAt;
        await this.nodes.beat().catch(() => {});
        if (!this.fresh()) return; // still cut off: apply nothing, try again shortly
        // Survivors take over only after a whole TTL without hearing us: a shorter silence (a busy event loop) needs
        // no new tokens, only the heartbeat just written.
        if (silentMs < this.ttlMs * 0.75) return;
        for (const h of [...this.hosted.values()]) {
          this.renewing.add(h.id);
          const next = await this.registry.takeOver(h.id, h.revision, h.owned).catch(() => undefined).finally(() => this.renewing.delete(h.id));
          if (next === undefined) this.giveUp(h);
          else h.revision = next;
        }
      } finally {
        this.fencing = undefined;
      }
    })().finally(() => {
      if (this.closed) return;
      if (this.fresh()) for (const h of this.hosted.values()) this.drain(h);
      else if ([...this.hosted.values()].some((h) => h.queue.length > 0)) setTimeout(() => void this.fence(), 200).unref();
    });
    return this.fencing;
  }

  /** Someone else holds the token now: stop this stale incarnation before it applies anything more. */
  private giveUp(h: Hosted): void {
    this.hosted.delete(h.id);
    h.queue.length = 0;
    h.held.length = 0;
    h.stop();
    void this.runtime?.stop(h.ref);
  }

  /** Take over failover actors whose owner is gone (each on the node the id hashes to first, the others later). */
  private sweep(): void {
    const now = this.services.clock.now();
    // Paused (SIGSTOP, starved)? What this node believes about the others is stale: start over as if it just joined.
    if (this.lastSweep !== 0 && now - this.lastSweep > this.ttlMs) {
      this.joinedAt = now;
      this.orphanSince.clear();
    }
    this.lastSweep = now;
    // Until one TTL has passed, this node may not have heard every live node's heartbeat yet.
    if (!this.fresh() || this.closed || this.runtime === undefined || now - this.joinedAt < this.ttlMs * 1.5) return;
    const alive = this.nodes.liveness.nodes();
    const candidates: Array<[string, Ownership]> = [];
    for (const [id, owned] of this.registry.entries()) {
      if (owned.failover === undefined || this.hosted.has(id) || this.pending.has(id)) continue;
      const orphan = owned.node === this.self || !this.nodes.alive(owned.node);
      if (!orphan) {
        this.orphanSince.delete(id);
        continue;
      }
      const since = this.orphanSince.get(id) ?? now;
      this.orphanSince.set(id, since);
      if (preferredNode(id, alive) !== this.self && now - since < this.ttlMs) continue;
      candidates.push([id, owned]);
    }
    if (candidates.length === 0) return;
    for (const [id] of candidates) this.pending.add(id);
    void this.adoptAll(candidates);
  }

  /** Adopt orphans, once the bucket confirms each one's old node is really gone (its key expired on the server). */
  private async adoptAll(candidates: Array<[string, Ownership]>): Promise<void> {
    const gone = new Map<string, Promise<boolean>>();
    await Promise.all(candidates.map(async ([id, owned]) => {
      try {
        if (owned.node !== this.self) {
          if (!gone.has(owned.node)) gone.set(owned.node, this.nodes.stillThere(owned.node).then((there) => !there, () => false));
          if (!(await gone.get(owned.node))) return this.orphanSince.delete(id);
        }
        // A failure (the connection closing, the module not loading here) leaves it orphaned: the next sweep retries.
        await this.adopt(id, owned);
      } catch (err) {
        if (process.env.TROUPE_CLUSTER_DEBUG) console.error(`adopting ${id} failed:`, err);
      } finally {
        this.pending.delete(id);
      }
    }));
  }

  private async adopt(id: string, owned: Ownership): Promise<void> {
    if (this.closed) return;
    const revision = await this.registry.takeOver(id, owned.revision ?? 0, owned).catch(() => undefined);
    if (revision === undefined || this.closed) return; // another survivor won (or this node is leaving)
    this.orphanSince.delete(id);
    const def = await loadDefinition(owned.failover!.module, owned.kind);
    // Applies nothing for half a TTL: an old owner that was only slow has seen the new token by then, or stopped.
    await this.host(id, def, revision, { ...owned, node: this.self, revision }, this.services.clock.now() + this.ttlMs / 2);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const h of this.hosted.values()) h.stop();
  }
}

async function loadDefinition(module: string, kind: string): Promise<ActorDefinition> {
  const mod = (await import(module)) as Record<string, unknown>;
  const def = Object.values(mod).find((v) => isActorDefinition(v) && v.kind === kind) as ActorDefinition | undefined;
  if (def === undefined) throw new DefinitionLoadError(`${module} exports no actor definition of kind '${kind}'`);
  return def;
}
