import type { KV, KvEntry } from '@nats-io/kv';
import type { DirectoryChange, MemberPhase } from '../runtime/directory.ts';
import { idToKey, keyToId } from './keys.ts';
import { watchKv } from './kv-watch.ts';
import type { NodeRegistry } from './nodes.ts';

/** What the members bucket holds per actor offering capabilities: its node, and its health there. */
export interface MemberRecord {
  node: string;
  kind: string;
  capabilities: readonly string[];
  phase: MemberPhase;
}

interface Remote extends MemberRecord {
  revision: number;
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/**
 * The router's capability table across nodes. Each node writes its own members (actors offering capabilities)
 * to a KV bucket as its directory changes (join, phase: running, restarting, open, half-open, draining; leave);
 * every node watches the bucket and applies the other nodes' members to its own directory with thread 0, so a
 * route resolved on any thread may pick them (their mail goes out through the main thread, as any remote
 * message). A member of a node that is gone leaves every directory at once, and its key is deleted by whichever
 * survivor sees it first (at the revision it read: never a newer entry).
 */
export class MemberTable {
  /** The other nodes' members as the bucket says, whether or not the runtime has taken them yet. */
  private readonly remote = new Map<string, Remote>();
  /** This node's members, as published (a 'phase' change carries only the id). */
  private readonly mine = new Map<string, MemberRecord>();
  private apply: ((change: DirectoryChange) => void) | undefined;
  private stopWatch: (() => void) | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly kv: KV,
    private readonly self: string,
    private readonly nodes: NodeRegistry,
    /** Ids hosted here (an entry naming this node for an id not here is left from an earlier life: deleted). */
    private readonly hosted: (id: string) => boolean,
    /** Ids whose membership stays on this node (a failover actor's incarnation: its id is not the cluster's). */
    private readonly privateId: (id: string) => boolean,
    sweepEveryMs: number,
  ) {
    this.sweeper = setInterval(() => void this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  /** Follow the bucket (cluster/kv-watch.ts: a watch that ends or throws is opened again). */
  async watch(now: () => number): Promise<void> {
    const handle = await watchKv(this.kv, (e) => this.seen(e), { what: 'members', now });
    this.stopWatch = () => handle.stop();
  }

  /** The runtime's way into its directory (runtime/extensions.ts attachDirectory): the members known so far join. */
  attach(apply: (change: DirectoryChange) => void): void {
    this.apply = apply;
    for (const [id, m] of this.remote) apply(['join', id, m.kind, 0, m.capabilities, m.phase]);
  }

  /** A change of this node's directory: written to the bucket for the other nodes. */
  changed(change: DirectoryChange): void {
    if (this.closed) return;
    const id = change[1];
    if (this.privateId(id)) return; // not the cluster's
    // The runtime tells only this node's own changes (never the other nodes' members it applies). A member of this
    // node whose id another node's record still names (that actor stopped or died, and its key is not deleted yet:
    // ids are claimed cluster-wide, so the other record is stale) is this node's now: the stale record is forgotten
    // without a 'leave' (which would take this node's own member out of its directory). Before, such a join was
    // dropped as if it were another node's, and the member was never published.
    if (change[0] === 'join') this.remote.delete(id);
    let record: MemberRecord | undefined;
    if (change[0] === 'join') record = { node: this.self, kind: change[2], capabilities: change[4], phase: change[5] };
    else if (change[0] === 'phase') {
      const had = this.mine.get(id);
      if (had === undefined) return;
      record = { ...had, phase: change[2] };
    }
    if (record === undefined) {
      if (!this.mine.delete(id)) return;
      void this.kv.delete(idToKey(id)).catch(() => {});
      return;
    }
    this.mine.set(id, record);
    void this.kv.put(idToKey(id), json(record)).catch(() => {});
  }

  /**
   * A failover actor hosted here offers `capabilities` under its public id: a member of this node for the others,
   * and of this node's own directory with thread 0, so a route here too goes through its journal (the main thread's
   * miss handler), never straight to the incarnation.
   */
  offerFailover(id: string, kind: string, capabilities: readonly string[]): void {
    this.changed(['join', id, kind, 0, capabilities, 'running']);
    this.apply?.(['join', id, kind, 0, capabilities, 'running']);
  }

  /** No longer hosted here (given up, taken over, stopped): out of this node's directory; its record goes. */
  withdrawFailover(id: string): void {
    if (!this.mine.has(id)) return;
    this.changed(['leave', id]);
    this.apply?.(['leave', id]);
  }

  private seen(e: KvEntry): void {
    const id = keyToId(e.key);
    if (e.operation !== 'PUT') {
      // One of ours deleted by another node (it thought this node dead: a pause, a partition): written again.
      const mine = this.mine.get(id);
      if (mine !== undefined && !this.closed) void this.kv.put(e.key, json(mine)).catch(() => {});
      return this.gone(id);
    }
    let m: MemberRecord;
    try {
      m = e.json<MemberRecord>();
    } catch {
      return;
    }
    if (m.node !== this.self && this.mine.has(id)) return; // a stale record of an id that is this node's now
    if (m.node === this.self) {
      // Our own write coming back, or a member of an earlier life of this node that is not here any more.
      if (!this.hosted(id) && !this.mine.has(id)) void this.kv.delete(e.key, { previousSeq: e.revision }).catch(() => {});
      return;
    }
    const had = this.remote.get(id);
    this.remote.set(id, { ...m, revision: e.revision });
    if (this.apply === undefined) return;
    if (had !== undefined && had.kind === m.kind && had.node === m.node && sameList(had.capabilities, m.capabilities)) {
      if (had.phase !== m.phase) this.apply(['phase', id, m.phase]);
    } else this.apply(['join', id, m.kind, 0, m.capabilities, m.phase]);
  }

  private gone(id: string): void {
    if (!this.remote.delete(id)) return;
    this.apply?.(['leave', id]);
  }

  /** Node `node` is gone: its members leave this node's directory now, and their keys go. */
  nodeGone(node: string): void {
    for (const [id, m] of this.remote) {
      if (m.node !== node) continue;
      this.gone(id);
      void this.kv.delete(idToKey(id), { previousSeq: m.revision }).catch(() => {});
    }
  }

  /**
   * Members whose node this node has not heard of for a TTL (it died before this node joined, say): the node
   * bucket has the last word (its key expires by the server's clock) before they are dropped.
   */
  private async sweep(): Promise<void> {
    const silent = new Set<string>();
    for (const m of this.remote.values()) if (!this.nodes.alive(m.node)) silent.add(m.node);
    for (const node of silent) {
      const there = await this.nodes.stillThere(node).catch(() => true);
      if (!there && !this.closed) this.nodeGone(node);
    }
  }

  /** The members of each node as this node knows them (the ops view). */
  countByNode(): Map<string, number> {
    const out = new Map<string, number>([[this.self, this.mine.size]]);
    for (const m of this.remote.values()) out.set(m.node, (out.get(m.node) ?? 0) + 1);
    return out;
  }

  /** Leaving: this node's members are deleted (the others drop them at once instead of after a TTL). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.stopWatch?.();
    const ids = [...this.mine.keys()];
    this.mine.clear();
    await Promise.allSettled(ids.map((id) => this.kv.delete(idToKey(id))));
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
