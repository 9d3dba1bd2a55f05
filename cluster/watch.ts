import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { Packr } from 'msgpackr';
import type { RemoteActors, ThreadServices } from '../runtime/extensions.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { ActorRegistry, Ownership } from './registry.ts';

const packr = new Packr({ useRecords: false, moreTypes: true });

const Ctl = { Watch: 0, Unwatch: 1, Stop: 2 } as const;

/** What watch and stop need of the failover actors (cluster/failover.ts). */
export interface FailoverActors {
  /** Stop `id` for good if hosted here (true when it was). */
  stop(id: string): boolean;
  /** This node is taking `id` over right now (not hosted yet). */
  adopting(id: string): boolean;
}

/** The owner of a watch of a failover actor: none, its registry key tells (it moves between nodes). */
const FAILOVER = '(failover)';
/** To an actor's owner: watch it for node `from`, stop watching, or stop it (with `reason`). */
type CtlFrame = [op: number, id: string, from: string, reason: string];
/** To a watcher's node: `id` terminated. */
type NoticeFrame = [id: string, kind: string, reason: string];

/** How often a watch request is tried while its owner is alive but does not answer (still starting, say). */
const WATCH_TRIES = 5;
const WATCH_TIMEOUT_MS = 3000;
/** How long a stop waits for its notice before it reads the registry (and sends the stop again). */
const STOP_CHECK_MS = 3000;

/**
 * Death watch and stop across nodes, on the main thread (the kernel's RemoteActors hook: a watch or stop of an id
 * no thread here hosts comes here). Per watched id, a node registers once with the owner, whatever number of its
 * threads and actors watch it; the owner watches it locally once for all watching nodes and publishes the one
 * termination notice to each, and a watching node fans it out to its threads. A watched actor whose node dies is
 * reported 'node-lost'; a stop is sent to the owner, which stops it as a local stop would.
 */
export class RemoteWatch implements RemoteActors {
  /** Watched here, hosted elsewhere: the owner asked, the local threads to tell. */
  private readonly watching = new Map<string, { owner: string; kind: string; threads: Set<number> }>();
  /** Hosted here, watched from other nodes: which, and how to stop the local watch. */
  private readonly watchedBy = new Map<string, { nodes: Set<string>; unwatch: () => void }>();
  /** Owners being read from the bucket, per id (what waits on one keeps its order). */
  private readonly resolving = new Map<string, Promise<Ownership | undefined>>();
  private subs: Subscription[] = [];
  private runtime: Runtime | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: { ctl: (node: string) => string; notice: (node: string) => string },
    private readonly self: string,
    private readonly registry: ActorRegistry,
    /** Actors of this node: id -> local thread. */
    private readonly local: Map<string, number>,
    /** Failover actors hosted here (cluster/failover.ts). */
    private readonly failover: FailoverActors,
    private readonly services: ThreadServices,
    private readonly alive: (node: string) => boolean,
  ) {
    // A failover actor terminates when its key is deleted (stopped for good); a takeover only moves it.
    registry.onChange((id, owner) => {
      const entry = this.watching.get(id);
      if (owner === undefined && entry !== undefined && entry.owner === FAILOVER) this.terminated(id, entry.kind, 'stopped');
    });
  }

  start(runtime: Runtime): void {
    this.runtime = runtime;
    this.subs.push(this.nc.subscribe(this.subject.ctl(this.self), { callback: (err, msg) => void (err === null && this.control(msg)) }));
    this.subs.push(this.nc.subscribe(this.subject.notice(this.self), { callback: (err, msg) => void (err === null && this.notice(msg)) }));
  }

  // ---- watching side ---------------------------------------------------------------------------------------------

  watch(thread: number, id: string, kind: string): boolean | number {
    // On another thread of this node (the ref named thread 0): the watcher is sent there.
    const here = this.local.get(id);
    if (here !== undefined) return here === 0 ? false : here;
    if (this.closed) return false; // left the cluster: no notice would come
    const known = this.registry.known(id);
    if (known !== undefined && known.node === this.self && known.failover === undefined) return false;
    const entry = this.watching.get(id);
    if (entry !== undefined) {
      entry.threads.add(thread);
      return true;
    }
    const watch = { owner: '', kind, threads: new Set([thread]) };
    this.watching.set(id, watch);
    this.withOwner(id, (owner) => {
      if (this.watching.get(id) !== watch) return; // unwatched meanwhile
      if (owner?.failover !== undefined) {
        // Watched through its key in this node's copy of the registry: a notice when the key goes.
        watch.owner = FAILOVER;
        if (this.registry.known(id) === undefined) this.terminated(id, kind, 'stopped');
        return;
      }
      if (owner === undefined || owner.node === this.self) return this.terminated(id, kind, 'not-found');
      watch.owner = owner.node;
      void this.register(id, watch, owner.node);
    });
    return true;
  }

  private async register(id: string, watch: { owner: string; kind: string }, owner: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.watching.get(id) !== watch) return;
      try {
        const msg = await this.nc.request(this.subject.ctl(owner), packr.pack([Ctl.Watch, id, this.self, ''] satisfies CtlFrame), { timeout: WATCH_TIMEOUT_MS });
        const [found] = packr.unpack(msg.data) as [number];
        if (found !== 1 && this.watching.get(id) === watch) this.terminated(id, watch.kind, 'not-found');
        return;
      } catch {
        if (!this.alive(owner)) return this.terminated(id, watch.kind, 'node-lost');
        if (attempt >= WATCH_TRIES) return this.terminated(id, watch.kind, 'unreachable');
        await new Promise((r) => setTimeout(r, 500).unref());
      }
    }
  }

  unwatch(thread: number, id: string): void {
    const entry = this.watching.get(id);
    if (entry === undefined || !entry.threads.delete(thread) || entry.threads.size > 0) return;
    this.watching.delete(id);
    if (entry.owner !== '' && entry.owner !== FAILOVER) this.publish(entry.owner, [Ctl.Unwatch, id, this.self, '']);
  }

  /** Thread `thread` of this node died with its watchers: what only it watched is unwatched at the owners. */
  threadLost(thread: number): void {
    for (const id of [...this.watching.keys()]) this.unwatch(thread, id);
  }

  stop(id: string, reason: string, from: number): boolean {
    const here = this.local.get(id);
    if (here !== undefined) {
      if (here !== from) void this.runtime?.stop({ id, kind: '', node: here });
      return true;
    }
    // Left the cluster: another node's actors are out of reach, and this node's failover actors go to the survivors.
    if (this.closed) return true;
    if (this.failover.stop(id)) return true;
    this.withOwner(id, (owner) => {
      if (owner?.failover !== undefined && this.unhosted(owner)) return void this.stopUnhosted(id, reason);
      if (owner === undefined || owner.node === this.self) return;
      this.publish(owner.node, [Ctl.Stop, id, this.self, reason]);
      this.confirmStop(id, reason);
    });
    return true;
  }

  /** A failover actor's key names this node (a stale copy: it moved) or a node that is gone (not adopted yet). */
  private unhosted(owner: Ownership): boolean {
    return owner.node === this.self || !this.alive(owner.node);
  }

  /**
   * Stop a failover actor that no node may be hosting (its key names this node, which does not host it, or a node
   * that is gone): read its key; hosted elsewhere, the stop goes there; still unhosted, the key is deleted at the
   * revision read, so nobody adopts it (stopped for good; its watchers see the key go). A takeover in between
   * (the delete fails, or this node is adopting it) is waited out and the stop tried again. Before, such a stop
   * went to the dead node, or nowhere when this node's copy named itself: an actor that had moved from here kept
   * running, and runtime.stop never settled.
   */
  private async stopUnhosted(id: string, reason: string): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)).unref());
      if (this.failover.stop(id)) return;
      if (this.failover.adopting(id)) continue;
      const owner = await this.registry.resolve(id).catch(() => null);
      if (owner === null) continue; // could not read: again
      if (owner === undefined) {
        const entry = this.watching.get(id);
        if (entry !== undefined) this.terminated(id, entry.kind, 'stopped');
        return;
      }
      if (owner.failover === undefined || !this.unhosted(owner)) {
        if (owner.node === this.self) return; // a plain actor of this node now: the kernel stops local ones
        this.publish(owner.node, [Ctl.Stop, id, this.self, reason]);
        return this.confirmStop(id, reason);
      }
      if (await this.registry.remove(id, owner.revision ?? 0).catch(() => false)) return;
    }
  }

  /**
   * A stop someone here waits for (runtime.stop watches first) must settle even when its message or the notice is
   * lost (a reconnect): while the watch waits, the registry is read every STOP_CHECK_MS; the key gone means the
   * actor stopped (its node releases it), else the stop is sent again to whoever owns it now. A node that goes
   * away settles it too ('node-lost', nodeGone).
   */
  private confirmStop(id: string, reason: string): void {
    const entry = this.watching.get(id);
    if (entry === undefined) return;
    setTimeout(() => {
      if (this.closed || this.watching.get(id) !== entry) return;
      void this.registry.resolve(id).then((owner) => {
        if (this.closed || this.watching.get(id) !== entry) return;
        if (owner === undefined) return this.terminated(id, entry.kind, 'stopped');
        if (owner.failover !== undefined && this.unhosted(owner)) return void this.stopUnhosted(id, reason);
        if (owner.node === this.self) return;
        this.publish(owner.node, [Ctl.Stop, id, this.self, reason]);
        this.confirmStop(id, reason);
      }, () => this.confirmStop(id, reason));
    }, STOP_CHECK_MS).unref();
  }

  private notice(msg: Msg): void {
    // Anything that is no notice frame is ignored: a throw here would end the client's reader (the node cut off).
    let frame: unknown;
    try {
      frame = packr.unpack(msg.data);
    } catch {
      return;
    }
    if (!Array.isArray(frame) || typeof frame[0] !== 'string') return;
    const [id, kind, reason] = frame as NoticeFrame;
    this.terminated(id, String(kind), String(reason));
  }

  private terminated(id: string, kind: string, reason: string): void {
    const entry = this.watching.get(id);
    if (entry === undefined) return;
    this.watching.delete(id);
    for (const thread of entry.threads) this.services.terminated(thread, id, kind, reason);
  }

  /** Node `node` is gone: what this node watched there terminated ('node-lost'); its watches here end. */
  nodeGone(node: string): void {
    for (const [id, entry] of this.watching) if (entry.owner === node) this.terminated(id, entry.kind, 'node-lost');
    for (const [id, w] of this.watchedBy) {
      if (!w.nodes.delete(node) || w.nodes.size > 0) continue;
      this.watchedBy.delete(id);
      w.unwatch();
    }
  }

  /** Run `fn` with `id`'s owner: at once when this node's copy knows it, else once the bucket was read (in order). */
  private withOwner(id: string, fn: (owner: Ownership | undefined) => void): void {
    const pending = this.resolving.get(id);
    const known = pending === undefined ? this.registry.known(id) : undefined;
    if (known !== undefined) return fn(known);
    let p = pending;
    if (p === undefined) {
      p = this.registry.resolve(id).catch(() => undefined);
      this.resolving.set(id, p);
      void p.then(() => this.resolving.delete(id));
    }
    void p.then(fn);
  }

  // ---- owning side -----------------------------------------------------------------------------------------------

  /** The nodes watching `id` (hosted here), sorted. */
  watchersOf(id: string): string[] {
    return [...(this.watchedBy.get(id)?.nodes ?? [])].sort();
  }

  private control(msg: Msg): void {
    let frame: CtlFrame;
    try {
      frame = packr.unpack(msg.data) as CtlFrame;
    } catch {
      return;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') return;
    const [op, id, from, reason] = frame;
    const thread = this.local.get(id);
    if (op === Ctl.Stop) {
      // With the stopper's reason: the watchers here and on every node get it in their notices.
      if (thread !== undefined) this.services.stop({ id, kind: '', node: thread }, typeof reason === 'string' && reason !== '' ? reason : 'stopped');
      else this.failover.stop(id);
      return;
    }
    if (op === Ctl.Unwatch) {
      const w = this.watchedBy.get(id);
      if (w === undefined || !w.nodes.delete(from) || w.nodes.size > 0) return;
      this.watchedBy.delete(id);
      return w.unwatch();
    }
    if (thread === undefined || this.runtime === undefined) return this.respond(msg, [0]);
    let w = this.watchedBy.get(id);
    if (w === undefined) {
      const nodes = new Set<string>();
      const unwatch = this.runtime.watch({ id, kind: '', node: thread }, (n) => {
        if (this.watchedBy.get(id)?.nodes === nodes) this.watchedBy.delete(id);
        for (const node of nodes) this.publishNotice(node, [id, n.kind, n.reason]);
      });
      this.watchedBy.set(id, (w = { nodes, unwatch }));
    }
    w.nodes.add(from);
    this.respond(msg, [1]);
  }

  private respond(msg: Msg, value: unknown): void {
    try {
      msg.respond(packr.pack(value));
    } catch {
      // closing: the watcher's request times out, and it sees this node leave
    }
  }

  private publish(node: string, frame: CtlFrame): void {
    this.publishTo(this.subject.ctl(node), frame);
  }

  private publishNotice(node: string, frame: NoticeFrame): void {
    this.publishTo(this.subject.notice(node), frame);
  }

  private publishTo(subject: string, frame: CtlFrame | NoticeFrame): void {
    try {
      this.nc.publish(subject, packr.pack(frame));
    } catch {
      // closed or draining: a watcher hears of this node leaving instead
    }
  }

  /**
   * Leaving the cluster: the watches of other nodes' actors (and of failover actors) end now, with 'left-cluster'
   * (no notice could come any more), and so do the retries of registrations in flight.
   */
  close(): void {
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    for (const [id, entry] of [...this.watching]) this.terminated(id, entry.kind, 'left-cluster');
  }
}
