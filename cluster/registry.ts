import type { KV, KvEntry } from '@nats-io/kv';
import { DuplicateActorIdError } from '../runtime/errors.ts';
import { idToKey, keyToId } from './keys.ts';
import { watchKv } from './kv-watch.ts';
import type { Liveness } from './liveness.ts';

/** What the actors bucket holds per id: the node that owns it. */
export interface Ownership {
  node: string;
  kind: string;
  /** A failover actor (cluster/failover.ts): its mail goes through its journal, and survivors take it over. */
  failover?: {
    module: string;
    args: unknown;
    snapshotEvery?: number;
    capabilities?: readonly string[];
    /** A bounded mailbox's capacity: at most this many journaled messages handed to its incarnation at once. */
    window?: number;
  };
  /** The key's revision when this was read: the fencing token of the owner. */
  revision?: number;
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/**
 * The cluster-wide registry of actor ids, in a JetStream KV bucket: one key per id whose value names the owning
 * node. Claims are compare-and-set (create, or update at the revision read), so two nodes never own one id. Every
 * node keeps a copy (a watch) to route by; `resolve` reads the bucket itself when the copy does not know an id yet.
 */
export class ActorRegistry {
  private readonly owners = new Map<string, Ownership>();
  /** The revision of each claim this node holds (releases delete at it: never someone else's newer claim). */
  private readonly claims = new Map<string, number>();
  private stopWatch: (() => void) | undefined;
  /** Told of every change of an id's entry the watch sees (a failover actor taken over from this node...). */
  private readonly changeListeners: Array<(id: string, owner: Ownership | undefined) => void> = [];

  constructor(private readonly kv: KV, private readonly self: string, private readonly liveness: Liveness) {}

  /** Follow the bucket (cluster/kv-watch.ts: a watch that ends or throws is opened again). */
  async watch(now: () => number): Promise<void> {
    const handle = await watchKv(this.kv, (e) => this.seen(e), { what: 'actors', now });
    this.stopWatch = () => handle.stop();
  }

  private seen(e: KvEntry): void {
    const id = keyToId(e.key);
    const owner = e.operation === 'PUT' ? { ...e.json<Ownership>(), revision: e.revision } : undefined;
    if (owner !== undefined) this.owners.set(id, owner);
    else this.owners.delete(id);
    for (const l of this.changeListeners) l(id, owner);
  }

  onChange(listener: (id: string, owner: Ownership | undefined) => void): void {
    this.changeListeners.push(listener);
  }

  /** The owner as this node's copy knows it (no I/O). */
  known(id: string): Ownership | undefined {
    return this.owners.get(id);
  }

  /** The owner as the bucket says now. */
  async resolve(id: string): Promise<Ownership | undefined> {
    const e = await this.kv.get(idToKey(id));
    if (e === null || e.operation !== 'PUT') return undefined;
    const owner = { ...e.json<Ownership>(), revision: e.revision };
    this.owners.set(id, owner);
    return owner;
  }

  /**
   * Claim `id` for this node. A claim held by a node that is no longer alive (or by an earlier life of this node)
   * is taken over at its revision; a live one is a DuplicateActorIdError.
   */
  async claim(id: string, kind: string, failover?: Ownership['failover']): Promise<number> {
    const key = idToKey(id);
    const owned: Ownership = failover === undefined ? { node: this.self, kind } : { node: this.self, kind, failover };
    const value = json(owned);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const revision = await this.kv.create(key, value);
        this.claims.set(id, revision);
        this.owners.set(id, { ...owned, revision });
        return revision;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
      }
      const held = await this.kv.get(key);
      if (held === null || held.operation !== 'PUT') continue; // deleted meanwhile: create again
      const owner = held.json<Ownership>();
      if (owner.node !== this.self && this.liveness.alive(owner.node)) {
        throw new DuplicateActorIdError(`an actor with id '${id}' is already running on node ${owner.node}`, { details: { id, node: owner.node } });
      }
      try {
        const revision = await this.kv.update(key, value, held.revision);
        this.claims.set(id, revision);
        this.owners.set(id, { ...owned, revision });
        return revision;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
      }
    }
    throw new DuplicateActorIdError(`an actor with id '${id}' is being claimed by another node`, { details: { id } });
  }

  /** Every id whose owner this node's copy knows, with what it knows. */
  entries(): IterableIterator<[string, Ownership]> {
    return this.owners.entries();
  }

  /**
   * Write `id`'s entry as owned by this node if it is still at `revision` (compare-and-set): the new revision (the
   * fencing token) when this node won, undefined when someone else changed it first.
   */
  async takeOver(id: string, revision: number, owned: Ownership): Promise<number | undefined> {
    const { revision: _, ...value } = owned;
    try {
      const next = await this.kv.update(idToKey(id), json({ ...value, node: this.self }), revision);
      this.claims.set(id, next);
      this.owners.set(id, { ...value, node: this.self, revision: next });
      return next;
    } catch (err) {
      if (isWrongRevision(err)) return undefined;
      throw err;
    }
  }

  /** Let go of an id this node claimed (fire and forget: a failure leaves a claim a later spawn takes over). */
  release(id: string): void {
    const revision = this.claims.get(id);
    if (revision === undefined) return;
    this.claims.delete(id);
    if (this.owners.get(id)?.node === this.self) this.owners.delete(id);
    void this.kv.delete(idToKey(id), { previousSeq: revision }).catch(() => {});
  }

  /**
   * Delete `id`'s entry if it is still at `revision` (compare-and-set): a failover actor nobody hosts is stopped
   * for good so (nobody adopts it). False when someone changed it first.
   */
  async remove(id: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(idToKey(id), { previousSeq: revision });
      this.claims.delete(id);
      return true;
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw err;
    }
  }

  /** Every claim of this node, released (leaving the cluster). */
  async releaseAll(): Promise<void> {
    // A failover actor is not released: the survivors take it over once this node's key is gone.
    const ids = [...this.claims].filter(([id]) => this.owners.get(id)?.failover === undefined);
    this.claims.clear();
    await Promise.allSettled(ids.map(([id, revision]) => this.kv.delete(idToKey(id), { previousSeq: revision })));
  }

  close(): void {
    this.stopWatch?.();
  }
}

/** A create on an existing key, or an update at a revision that is no longer the last. */
export function isWrongRevision(err: unknown): boolean {
  const e = err as { message?: string; code?: unknown };
  return e?.code === 10071 || /wrong last sequence/i.test(String(e?.message));
}
