import { randomUUID } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Clock } from '../runtime/clock.ts';
import { NodeIdTakenError } from './errors.ts';
import { watchKv } from './kv-watch.ts';
import { Liveness } from './liveness.ts';
import { isWrongRevision } from './registry.ts';

/** What a node says about itself in the nodes bucket (renewed at every heartbeat). */
export interface NodeRecord {
  node: string;
  pid: number;
  joinedAt: number;
  /** Actors hosted here when it last heartbeat (placement and the ops view read it). */
  actors: number;
  /** Spawns it took from other nodes so far (cluster/spawner.ts: tells a caller its spawn is in `actors`). */
  spawnsTaken?: number;
  /** Random per process: tells this process's own writes from those of another process with the same node id. */
  incarnation?: string;
}

/**
 * The node registry: a KV bucket whose TTL is the heartbeat TTL. Joining creates this node's key (taken: a live
 * node has it); each heartbeat updates it at the revision it wrote last, so a node whose key expired while it was
 * paused and was taken by another process finds out (its update fails) instead of overwriting it.
 */
export class NodeRegistry {
  readonly liveness: Liveness;
  private revision = 0;
  /** When this node last knew its key was its own (clock.now()): a failover actor applies mail only while recent. */
  confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private readonly goneListeners = new Set<(node: string) => void>();
  private readonly joinedAt: number;
  /** Counted by cluster/spawner.ts, published with each heartbeat. */
  spawnsTaken = 0;
  /** Each node's last record seen (kept after it is gone: a node once seen is 'down', never 'unknown'). */
  readonly records = new Map<string, NodeRecord>();
  private readonly incarnation = randomUUID();

  constructor(
    private readonly kv: KV,
    private readonly self: string,
    private readonly ttlMs: number,
    private readonly everyMs: number,
    private readonly clock: Clock,
    private readonly load: () => number,
  ) {
    this.liveness = new Liveness(ttlMs);
    this.joinedAt = Date.now();
  }

  private record(): Uint8Array {
    const rec: NodeRecord = { node: this.self, pid: process.pid, joinedAt: this.joinedAt, actors: this.load(), spawnsTaken: this.spawnsTaken, incarnation: this.incarnation };
    return new TextEncoder().encode(JSON.stringify(rec));
  }

  async join(): Promise<void> {
    try {
      this.revision = await this.kv.create(this.self, this.record());
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
      const held = await this.kv.get(this.self);
      const pid = held?.operation === 'PUT' ? held.json<NodeRecord>().pid : undefined;
      throw new NodeIdTakenError(`node id '${this.self}' is taken by a live node of the cluster (pid ${pid ?? '?'}; it frees ${this.ttlMs / 1000} s after that node stops heartbeating)`, { details: { node: this.self } });
    }
    this.liveness.heard(this.self, this.clock.now());
    this.confirmedAt = this.clock.now();
    const watch = await watchKv(this.kv, (e) => this.seen(e), { what: 'nodes', now: () => this.clock.now() });
    this.stopWatch = () => watch.stop();
    this.timer = setInterval(() => void this.beat().catch(() => {}), this.everyMs);
    this.sweeper = setInterval(() => {
      for (const node of this.liveness.expire(this.clock.now())) if (node !== this.self) this.tellGone(node);
    }, Math.max(50, Math.round(this.ttlMs / 4)));
    this.timer.unref();
    this.sweeper.unref();
  }

  private seen(e: KvEntry): void {
    if (e.operation !== 'PUT') {
      if (this.liveness.left(e.key)) this.tellGone(e.key);
      return;
    }
    this.liveness.heard(e.key, this.clock.now());
    try {
      this.records.set(e.key, e.json<NodeRecord>());
    } catch {
      // not a node record: liveness is all it gives
    }
  }

  private lostIdentity = false;
  /** The beat in flight: beats never overlap (see beat()). */
  private beating: Promise<void> | undefined;

  /**
   * Heartbeat now (also what a node that finds its lease stale does before it decides anything). A beat asked for
   * while one is in flight joins it: two beats at one revision would race, and the loser would read the winner's
   * write as another process's and give this node's identity up for good (what stalled the failover of 1,000
   * actors: a slow beat overlapped the next timer tick, or the fence's own beat).
   */
  beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    if (this.lostIdentity) return;
    const at = this.clock.now();
    try {
      this.revision = await this.kv.update(this.self, this.record(), this.revision);
      this.confirmedAt = at;
    } catch (err) {
      if (!isWrongRevision(err)) return; // disconnected, timed out: the next beat tries again
      const held = await this.kv.get(this.self).catch(() => null);
      if (held === null || held.operation !== 'PUT') {
        // Expired while this node was paused or cut off: it is this node again from now on (its actors are
        // fenced separately: cluster/failover.ts).
        this.revision = await this.kv.create(this.self, this.record());
        this.confirmedAt = at;
        return;
      }
      if (held.json<NodeRecord>().incarnation === this.incarnation) {
        // Our own write: an update whose reply timed out here but which the server applied. Carry on from it.
        this.revision = await this.kv.update(this.self, this.record(), held.revision);
        this.confirmedAt = at;
        return;
      }
      // Our key expired (a pause, a partition) and another process took this node id since: we are no longer it.
      this.lostIdentity = true;
      if (process.env.TROUPE_CLUSTER_DEBUG) console.error(`node ${this.self} lost its identity: its key (revision ${held.revision}) is another process's`);
    }
  }

  /**
   * Is `node`'s key still in the bucket? The server expires it by its own clock, so this is the word that counts
   * before taking over a node's actors (this process's view can be late when its own event loop is).
   */
  async stillThere(node: string): Promise<boolean> {
    const e = await this.kv.get(node);
    if (e === null || e.operation !== 'PUT') return false;
    this.liveness.heard(node, this.clock.now());
    return true;
  }

  onGone(listener: (node: string) => void): void {
    this.goneListeners.add(listener);
  }

  private tellGone(node: string): void {
    for (const l of this.goneListeners) l(node);
  }

  alive(node: string): boolean {
    return this.liveness.alive(node);
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.sweeper);
    this.stopWatch?.();
    await this.kv.delete(this.self, { previousSeq: this.revision }).catch(() => {});
  }
}
