import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { OwnedCrash, ThreadServices } from '../runtime/extensions.ts';
import type { DeadLetter } from '../runtime/stats.ts';
import { DefinitionLoadError, DuplicateActorIdError, InvalidSpawnOptionError } from '../runtime/errors.ts';
import { capabilitiesProblem } from '../runtime/validate.ts';
import { mailboxSpecProblem, type MailboxSpec } from '../mailbox/mailbox.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { failoverShell, type ShellArgs } from './failover-shell.ts';
import { Incarnation, type IncarnationHost } from './incarnation.ts';
import { JournalWriter } from './journal-out.ts';
import { Limiter } from './limit.ts';
import { idToKey } from './keys.ts';
import type { NodeRegistry } from './nodes.ts';
import { preferredNode } from './placement.ts';
import type { ActorRegistry, Ownership } from './registry.ts';
import type { Remote } from './remote.ts';
import { SnapshotStore } from './snapshots.ts';

/** What spawnFailover (and a cluster-owned child) takes. */
export interface FailoverSpawnOptions {
  id: string;
  args?: unknown;
  /** Snapshot every this many journaled messages (default 100; 0: never). */
  snapshotEvery?: number;
  /** Capabilities it offers on top of its definition's, wherever it is hosted (kept in its registry record). */
  capabilities?: readonly string[];
  /**
   * Overrides the definition's mailbox. Bounded: at most `capacity` journaled messages are handed to it at once, the
   * rest wait in order on the hosting node (none is dropped: the journal acknowledged them all; `overflow` never
   * applies). Priority is refused: the journal's order is the order of application (a replay must fold the same).
   */
  mailbox?: MailboxSpec;
}

/** The window of a failover actor's mailbox (0: none); throws InvalidSpawnOptionError for a priority mailbox. */
export function mailboxWindow(spec: MailboxSpec | undefined, what: string): number {
  const problem = mailboxSpecProblem(spec);
  if (problem) throw new InvalidSpawnOptionError(`${what}: mailbox: ${problem}`);
  if (spec?.kind === 'priority') throw new InvalidSpawnOptionError(`${what}: a failover actor takes no priority mailbox (it handles its journal in journal order)`);
  return spec?.kind === 'bounded' ? spec.capacity : 0;
}

/** Adoptions a node runs at once (each: a compare-and-set, a snapshot claim, a consumer). */
const TAKEOVERS_AT_ONCE = 16;

/** Snapshot a failover actor every this many journal messages unless spawnFailover says otherwise (0: never). */
export const DEFAULT_SNAPSHOT_EVERY = 100;

/**
 * Failover actors: ids whose mail is journaled in a JetStream stream (one subject per actor) before anything
 * handles it, so any node can host them. The owner holds the id's key in the actors bucket; its revision is the
 * fencing token. When the owner's node is gone, survivors race to write the key at the revision they saw
 * (compare-and-set: one wins), and the winner hosts the actor again (cluster/incarnation.ts): it claims the actor's
 * snapshot record with its token, starts a fresh incarnation from the snapshot and replays the journal after it, so
 * every acknowledged message is in the state exactly once. A node applies journaled mail only while its own key was
 * confirmed within half the TTL; past that (a pause, a partition) it first writes each of its actors' keys at its
 * token: a failed write means someone took over, and its incarnation is stopped before it applies anything more.
 */
export class Failover implements IncarnationHost {
  private readonly hosted = new Map<string, Incarnation>();
  /** Local ids of incarnations being spawned: their public id is claimed already, they need no claim of their own. */
  readonly incarnations = new Set<string>();
  private readonly pending = new Set<string>();
  /** The capability table across nodes (cluster/members.ts): failover actors offering capabilities join it. */
  directory: { offerFailover(id: string, kind: string, capabilities: readonly string[]): void; withdrawFailover(id: string): void } | undefined;
  /** Owned children supervised here (ChildSpec.failover): public id -> how to tell their supervisor of a crash. */
  private readonly supervised = new Map<string, OwnedCrash>();
  /** Takeovers in flight at once (cluster/limit.ts says why). */
  private readonly takeovers = new Limiter(TAKEOVERS_AT_ONCE);
  private readonly orphanSince = new Map<string, number>();
  private runtime: Runtime | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private fencing: Promise<void> | undefined;
  private joinedAt: number;
  private lastSweep = 0;
  private closed = false;

  private constructor(
    nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly self: string,
    private readonly ttlMs: number,
    readonly services: ThreadServices,
    private readonly registry: ActorRegistry,
    private readonly nodes: NodeRegistry,
    readonly remote: Remote,
    readonly snapshots: SnapshotStore,
  ) {
    this.joinedAt = services.clock.now();
    const writer = new JournalWriter(nc, js, stream, self, services, remote, (id) => this.subject(id));
    remote.journal = (...m) => writer.write(...m);
    // Someone else wrote the key of an actor hosted here (took it over): this incarnation is stale, stop it now.
    registry.onChange((id, owner) => {
      const h = this.hosted.get(id);
      if (h !== undefined && (owner === undefined || owner.node !== this.self || (owner.revision !== undefined && owner.revision > h.revision && !this.renewing.has(id)))) this.giveUp(h);
    });
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

  subject(id: string): string {
    return this.subjectPrefix + idToKey(id);
  }

  current(inc: Incarnation): boolean {
    return this.hosted.get(inc.id) === inc;
  }

  async stateOf(localId: string): Promise<unknown> {
    return (await this.runtime!.inspect(localId))?.state;
  }

  /** Now that the runtime exists: host what this node is to host, and watch for orphans. */
  started(runtime: Runtime): void {
    this.runtime = runtime;
    runtime.onDeadLetter((letter) => void (letter.reason === 'crashed' && this.crashed(letter)));
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.round(this.ttlMs / 4)));
    this.sweeper.unref();
  }

  /** Spawn a failover actor here (its id is claimed cluster-wide); the ref works from any node and survives this one. */
  async spawn<D extends ActorDefinition>(def: D, options: FailoverSpawnOptions): Promise<ActorRef<D>> {
    const { id, args, snapshotEvery, capabilities } = options;
    if (snapshotEvery !== undefined && !(Number.isInteger(snapshotEvery) && snapshotEvery >= 0)) {
      throw new InvalidSpawnOptionError(`snapshotEvery must be a whole number of messages, 0 or more (0: never), not ${JSON.stringify(snapshotEvery)}`);
    }
    const problem = capabilitiesProblem(capabilities);
    if (problem) throw new InvalidSpawnOptionError(`capabilities: ${problem}`);
    const window = mailboxWindow(options.mailbox ?? def.mailbox, `failover actor ${id}`);
    // What a survivor needs to host it again: in its registry record (the capabilities on top of the definition's too).
    const failover: Ownership['failover'] = { module: def.module, args };
    if (snapshotEvery !== undefined) failover.snapshotEvery = snapshotEvery;
    if (capabilities !== undefined && capabilities.length > 0) failover.capabilities = [...capabilities];
    if (window > 0) failover.window = window;
    this.pending.add(id);
    try {
      const revision = await this.registry.claim(id, def.kind, failover);
      await this.host(id, def, revision, { node: this.self, kind: def.kind, failover }, 0);
    } finally {
      this.pending.delete(id);
    }
    return Object.freeze({ id, kind: def.kind, node: 0 }) as ActorRef<D>;
  }

  /**
   * A supervised child declared cluster-owned (ChildSpec.failover): spawned as a failover actor, or, when the
   * cluster hosts it already (its tree started again after the cluster moved it), the ref of the one it hosts.
   */
  async spawnOwned<D extends ActorDefinition>(def: D, options: FailoverSpawnOptions, crashed?: OwnedCrash): Promise<ActorRef<D>> {
    const ref = Object.freeze({ id: options.id, kind: def.kind, node: 0 }) as ActorRef<D>;
    if (crashed !== undefined) this.supervised.set(options.id, crashed);
    const hosted = this.hosted.get(options.id);
    if (hosted !== undefined) {
      if (crashed !== undefined) hosted.window = 1; // supervised now: one message at a time (see host())
      return ref;
    }
    try {
      return await this.spawn(def, options);
    } catch (err) {
      const owner = err instanceof DuplicateActorIdError ? await this.registry.resolve(options.id) : undefined;
      if (owner?.failover !== undefined && owner.kind === def.kind) return ref;
      this.supervised.delete(options.id);
      throw err;
    }
  }

  /**
   * Stop failover actor `id` for good, if this node hosts it: its incarnation stops and its key is released, so no
   * node adopts it. Its journal and snapshot stay: a later spawn of the id resumes its state (as a durable actor's).
   */
  stop(id: string): boolean {
    const h = this.hosted.get(id);
    if (h === undefined) return false;
    this.supervised.delete(id);
    this.giveUp(h);
    this.registry.release(id);
    return true;
  }

  /**
   * An incarnation crashed (a main-thread dead letter 'crashed': its message is consumed, its state as it was). A
   * supervised one applies nothing more until its supervisor restarts it (resume); the others go on at once.
   */
  private crashed(letter: DeadLetter): void {
    const cut = letter.to.lastIndexOf('~');
    const id = cut < 0 ? letter.to : letter.to.slice(0, cut);
    const h = this.hosted.get(id);
    const report = this.supervised.get(id);
    if (h === undefined || h.ref.id !== letter.to || report === undefined) return;
    const trial = h.suspend();
    report(letter.type, { name: 'Error', message: letter.detail ?? 'crashed' }, trial);
  }

  /** This node is taking `id` over (or spawning it) right now. */
  adopting(id: string): boolean {
    return this.pending.has(id);
  }

  /** Its supervisor restarted owned child `id`: it applies its mail again, from the state it had. */
  resume(id: string): void {
    this.hosted.get(id)?.resume();
  }

  /** Its supervisor admits owned child `id`'s one trial: it applies its next message, `succeeded` if it takes it. */
  trial(id: string, succeeded: () => void): void {
    this.hosted.get(id)?.resume(succeeded);
  }

  /** The failover actors this node hosts now. */
  hostedIds(): string[] {
    return [...this.hosted.keys()].sort();
  }

  /** Per hosted actor: its token, frames received from its journal, applied, waiting, its mailbox window (diagnostics). */
  stats(): Record<string, { revision: number; received: number; applied: number; queued: number; window: number }> {
    return Object.fromEntries([...this.hosted.values()].map((h) => [h.id, { revision: h.revision, received: h.received, applied: h.applied, queued: h.queue.length, window: h.window }]));
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
    const every = owned.failover?.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    // A supervised child is handed one message at a time: after a crash nothing more is handled until its
    // supervisor restarts it (a backoff holds all its mail), and a circuit's trial is exactly one message.
    const window = this.supervised.has(id) ? 1 : owned.failover?.window ?? 0;
    const h = new Incarnation(this, id, ref, revision, owned, snapshot.seq, applyFrom, every, window);
    this.hosted.set(id, h);
    try {
      await h.feed();
    } catch (err) {
      // No feed (a JetStream API call timed out under load...): not hosted after all; the sweep adopts it again.
      this.hosted.delete(id);
      void this.runtime?.stop(ref);
      throw err;
    }
    const capabilities = [...new Set([...(def.capabilities ?? []), ...(owned.failover?.capabilities ?? [])])];
    if (capabilities.length > 0 && this.current(h)) this.directory?.offerFailover(id, def.kind, capabilities);
  }

  fresh(): boolean {
    return this.services.clock.now() - this.nodes.confirmedAt <= this.ttlMs / 2;
  }

  /** Our key went unconfirmed too long: heartbeat, then renew each actor's token or give the actor up. */
  fence(): void {
    void this.fenceNow();
  }

  private fenceNow(): Promise<void> {
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
      if (this.fresh()) for (const h of this.hosted.values()) h.drain();
      else if ([...this.hosted.values()].some((h) => h.queue.length > 0)) setTimeout(() => this.fence(), 200).unref();
    });
    return this.fencing;
  }

  /** Someone else holds the token now: stop this stale incarnation before it applies anything more. */
  giveUp(h: Incarnation): void {
    this.hosted.delete(h.id);
    this.directory?.withdrawFailover(h.id);
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
        await this.takeovers.run(() => {
          const latest = this.registry.known(id);
          if (latest !== undefined && latest.revision !== owned.revision) return Promise.resolve(); // changed while queued
          return this.adopt(id, owned);
        });
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
