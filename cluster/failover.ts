import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { ThreadServices } from '../runtime/extensions.ts';
import { DefinitionLoadError, errorToData } from '../runtime/errors.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { decode, encode, Mode, type JournalFrame } from './codec.ts';
import { ClusterDisconnectedError, PayloadTooLargeError } from './errors.ts';
import { idToKey } from './keys.ts';
import type { NodeRegistry } from './nodes.ts';
import { preferredNode } from './placement.ts';
import type { ActorRegistry, Ownership } from './registry.ts';
import type { Remote } from './remote.ts';

/** A failover actor hosted here: its incarnation (a local actor named after its fencing token) and its journal feed. */
interface Hosted {
  id: string;
  ref: ActorRef;
  revision: number;
  owned: Ownership;
  queue: JournalFrame[];
  stop(): void;
}

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
  ) {
    this.joinedAt = services.clock.now();
    remote.journal = (...m) => this.journal(...m);
  }

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
    return new Failover(nc, jetstream(nc), stream, `troupe.${cluster}.journal.`, self, ttlMs, services, registry, nodes, remote);
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
  async spawn<D extends ActorDefinition>(def: D, options: { id: string; args?: unknown }): Promise<ActorRef<D>> {
    const { id, args } = options;
    this.pending.add(id);
    try {
      const revision = await this.registry.claim(id, def.kind, { module: def.module, args });
      await this.host(id, def, revision, { node: this.self, kind: def.kind, failover: { module: def.module, args } });
    } finally {
      this.pending.delete(id);
    }
    return Object.freeze({ id, kind: def.kind, node: 0 }) as ActorRef<D>;
  }

  /** The failover actors this node hosts now. */
  hostedIds(): string[] {
    return [...this.hosted.keys()].sort();
  }

  private async host(id: string, def: ActorDefinition, revision: number, owned: Ownership): Promise<void> {
    const ref = await this.runtime!.spawn(def, { id: `${id}~${revision}`, args: owned.failover?.args });
    const h: Hosted = { id, ref, revision, owned, queue: [], stop: () => {} };
    this.hosted.set(id, h);
    // From the start of its journal: the fresh incarnation's state is the fold of every message journaled.
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: this.subject(id), deliver_policy: DeliverPolicy.All });
    const feed = await consumer.consume({
      callback: (m) => {
        if (!this.hosted.has(id) || this.hosted.get(id) !== h) return;
        h.queue.push(decode<JournalFrame>(m.data));
        this.drain(h);
      },
    });
    h.stop = () => void feed.close().catch(() => {});
  }

  private fresh(): boolean {
    return this.services.clock.now() - this.nodes.confirmedAt <= this.ttlMs / 2;
  }

  private drain(h: Hosted): void {
    while (h.queue.length > 0) {
      if (!this.fresh()) return void this.fence();
      this.apply(h, h.queue.shift()!);
    }
  }

  private apply(h: Hosted, [mode, type, payload, from, corr, messageId, replyTo]: JournalFrame): void {
    if (mode === Mode.Tell) return this.services.tell(h.ref, type, payload, from);
    if (mode === Mode.Send) return void this.services.send(h.ref, type, payload, from, messageId, LONG_MS).catch(() => {});
    this.services.ask(h.ref, type, payload, from, LONG_MS).then(
      (value) => this.remote.answer(replyTo, corr, 1, value),
      (err: unknown) => this.remote.answer(replyTo, corr, 0, errorToData(err)),
    );
  }

  /** Our key went unconfirmed too long: heartbeat, then renew each actor's token or give the actor up. */
  private fence(): Promise<void> {
    this.fencing ??= (async () => {
      try {
        await this.nodes.beat().catch(() => {});
        if (!this.fresh()) return; // still cut off: apply nothing, try again shortly
        for (const h of [...this.hosted.values()]) {
          const next = await this.registry.takeOver(h.id, h.revision, h.owned).catch(() => undefined);
          if (next === undefined) this.giveUp(h);
          else h.revision = next;
        }
      } finally {
        this.fencing = undefined;
      }
      for (const h of this.hosted.values()) this.drain(h);
    })().finally(() => {
      if (!this.closed && [...this.hosted.values()].some((h) => h.queue.length > 0) && !this.fresh()) setTimeout(() => void this.fence(), 200).unref();
    });
    return this.fencing;
  }

  /** Someone else holds the token now: stop this stale incarnation before it applies anything more. */
  private giveUp(h: Hosted): void {
    this.hosted.delete(h.id);
    h.queue.length = 0;
    h.stop();
    void this.runtime?.stop(h.ref);
  }

  /** Take over failover actors whose owner is gone (each on the node the id hashes to first, the others later). */
  private sweep(): void {
    const now = this.services.clock.now();
    // Paused (SIGSTOP, starved)? What this node believes about the others is stale: start over as if it just joined.
    if (this.lastSweep !== 0 && now - this.lastSweep > this.ttlMs / 2) {
      this.joinedAt = now;
      this.orphanSince.clear();
    }
    this.lastSweep = now;
    // Until one TTL has passed, this node may not have heard every live node's heartbeat yet.
    if (!this.fresh() || this.closed || this.runtime === undefined || now - this.joinedAt < this.ttlMs * 1.5) return;
    const alive = this.nodes.liveness.nodes();
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
      this.pending.add(id);
      // A failure (the connection closing, the module not loading here) leaves it orphaned: the next sweep retries.
      void this.adopt(id, owned).catch(() => {}).finally(() => this.pending.delete(id));
    }
  }

  private async adopt(id: string, owned: Ownership): Promise<void> {
    if (this.closed) return;
    const revision = await this.registry.takeOver(id, owned.revision ?? 0, owned).catch(() => undefined);
    if (revision === undefined || this.closed) return; // another survivor won (or this node is leaving)
    this.orphanSince.delete(id);
    const def = await loadDefinition(owned.failover!.module, owned.kind);
    await this.host(id, def, revision, { ...owned, node: this.self, revision });
  }

  // ---- the sending side: any node's mail to a failover actor goes into its journal --------------------------------

  private journal(id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean): void {
    const mode = ask === 0 ? Mode.Tell : ack ? Mode.Send : Mode.Ask;
    const fail = (err: Error) => {
      if (ask !== 0) this.services.reply(replyNode, ask, false, errorToData(err));
      else this.services.deadLetter(id, type, from, 'worker-lost', err.message);
    };
    if (!this.remote.connected) return fail(new ClusterDisconnectedError(`the connection to NATS is down: cannot journal '${type}' for ${id}`));
    const corr = mode === Mode.Ask ? this.remote.expect(replyNode, ask) : 0;
    let data: Uint8Array;
    try {
      data = encode([mode, type, payload, from, corr, messageId, this.self]);
    } catch (err) {
      this.remote.forget(corr);
      return fail(err as Error);
    }
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > max) {
      this.remote.forget(corr);
      return fail(new PayloadTooLargeError(`'${type}' to ${id} is ${data.length} bytes encoded: the NATS server takes at most ${max}`, { details: { bytes: data.length, maxPayload: max } }));
    }
    // Published in call order on one connection: the journal keeps this node's order per actor.
    this.js.publish(this.subject(id), data, messageId !== '' ? { msgID: messageId } : undefined).then(
      (pubAck) => {
        if (mode === Mode.Send) this.services.reply(replyNode, ask, true, { messageId: messageId !== '' ? messageId : `${this.stream}:${pubAck.seq}`, duplicate: pubAck.duplicate });
      },
      (err: unknown) => {
        this.remote.forget(corr);
        fail(new ClusterDisconnectedError(`'${type}' for ${id} was not journaled: ${(err as Error)?.message ?? err}`));
      },
    );
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
