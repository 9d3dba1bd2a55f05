import type { ActorRef, TerminationNotice } from '../actors/define.ts';
import { envelope } from '../mailbox/envelope.ts';
import { SYS_TERMINATED, type Cell } from './cell.ts';
import type { Host } from './host.ts';
import { Op } from './protocol.ts';

/** A notice reason that sends the watch on to another thread (`$watch-at:<n>`): it was not where the ref said. */
const REDIRECT = '$watch-at:';
/** Redirects one watch may follow (a stale view can send it back and forth: then it is not found). */
const MAX_REDIRECTS = 3;

interface WatchEntry {
  node: number;
  redirects?: number;
  kind: string;
  /** Local watcher ids: actor ids, or '$rt:n' for callbacks registered through the Runtime. */
  watchers: Set<string>;
}

/**
 * Death watch, one thread's share of it. A watcher's thread registers once per target with the target's thread
 * (which keeps the set of interested threads on the target's cell), and fans the one termination notice out to
 * its local watchers; a watcher that is told, unwatches or stops is forgotten, so each gets exactly one notice.
 */
export class Watches {
  private readonly watching = new Map<string, WatchEntry>();
  private readonly callbacks = new Map<string, (notice: TerminationNotice) => void>();
  private seq = 0;

  constructor(private readonly host: Host) {}

  /** `watcher` (a local actor id, or a callback for code outside actors) gets one notice when `ref` stops. */
  watch(watcher: string | ((notice: TerminationNotice) => void), ref: ActorRef): string {
    let id: string;
    if (typeof watcher === 'function') this.callbacks.set((id = `$rt:${++this.seq}`), watcher);
    else id = watcher;
    const entry = this.watching.get(ref.id);
    if (entry !== undefined) {
      entry.watchers.add(id);
      return id;
    }
    this.watching.set(ref.id, { node: ref.node, kind: ref.kind, watchers: new Set([id]) });
    this.send(ref.node, Op.Watch, ref.id, ref.kind);
    return id;
  }

  unwatch(watcher: string, ref: ActorRef): void {
    this.callbacks.delete(watcher);
    const entry = this.watching.get(ref.id);
    if (entry === undefined || !entry.watchers.delete(watcher) || entry.watchers.size > 0) return;
    this.watching.delete(ref.id);
    this.send(entry.node, Op.Unwatch, ref.id, ref.kind);
  }

  /** A stopping actor stops watching others. */
  forget(watcher: string): void {
    for (const [target, entry] of this.watching) if (entry.watchers.has(watcher)) this.unwatch(watcher, { id: target, kind: entry.kind, node: entry.node });
  }

  /** Thread `node` wants to hear when local actor `target` stops. */
  watchedBy(node: number, target: string, kind: string): void {
    const cell = this.host.actors.get(target);
    if (cell === undefined) {
      // In a cluster, it may be on another node (the cluster watches it) or on another thread of this one.
      const elsewhere = this.host.remoteActors?.watch(node, target, kind);
      if (elsewhere === true) return;
      if (typeof elsewhere === 'number' && elsewhere !== this.host.node) return this.send(node, Op.Terminated, target, kind, `${REDIRECT}${elsewhere}`);
      return this.send(node, Op.Terminated, target, kind, 'not-found');
    }
    (cell.watchers ??= new Set()).add(node);
  }

  unwatchedBy(node: number, target: string): void {
    const cell = this.host.actors.get(target);
    if (cell === undefined) this.host.remoteActors?.unwatch(node, target);
    else cell.watchers?.delete(node);
  }

  /** Thread `node`'s watchers of `target` hear that it terminated (a notice from another node). */
  notify(node: number, target: string, kind: string, reason: string): void {
    this.send(node, Op.Terminated, target, kind, reason);
  }

  /** Local actor `cell` stopped for good: tell every thread that watches it. */
  announce(cell: Cell, reason: string): void {
    if (cell.watchers) for (const node of cell.watchers) this.send(node, Op.Terminated, cell.id, cell.def.kind, reason);
  }

  /** The notice for `target` arrived: deliver it once to each local watcher. */
  terminated(target: string, kind: string, reason: string): void {
    const entry = this.watching.get(target);
    if (entry === undefined) return;
    if (reason.startsWith(REDIRECT)) {
      const to = Number(reason.slice(REDIRECT.length));
      if ((entry.redirects = (entry.redirects ?? 0) + 1) <= MAX_REDIRECTS && Number.isInteger(to) && to >= 0) {
        entry.node = to;
        return this.send(to, Op.Watch, target, kind);
      }
      reason = 'not-found';
    }
    this.watching.delete(target);
    const notice: TerminationNotice = { id: target, kind, reason };
    for (const w of entry.watchers) {
      const callback = this.callbacks.get(w);
      if (callback !== undefined) {
        this.callbacks.delete(w);
        callback(notice);
        continue;
      }
      const cell = this.host.actors.get(w);
      if (cell === undefined) continue;
      cell.mailbox.offerSystem(envelope(SYS_TERMINATED, notice, '', 0, this.host.node));
      if (!cell.busy) this.host.scheduler.schedule(cell);
    }
  }

  /** Thread `node` died: watchers of its actors hear 'worker-lost', except for those that will be restarted. */
  lost(node: number, survivors: ReadonlyMap<string, unknown>): void {
    for (const [target, entry] of this.watching) if (entry.node === node && !survivors.has(target)) this.terminated(target, entry.kind, 'worker-lost');
  }

  /** A replacement thread took over `node`: register again the watches held here on actors there. */
  renew(node: number): void {
    for (const [target, entry] of this.watching) if (entry.node === node) this.send(node, Op.Watch, target, entry.kind);
  }

  private send(node: number, op: number, target: string, kind: string, reason?: string): void {
    if (node === this.host.node) {
      if (op === Op.Watch) this.watchedBy(node, target, kind);
      else if (op === Op.Unwatch) this.unwatchedBy(node, target);
      else this.terminated(target, kind, reason!);
      return;
    }
    const transport = this.host.transport;
    if (!transport.has(node)) {
      // An actor to be restarted on the thread being replaced: renew() registers the watch once the thread is back.
      if (op === Op.Watch && !this.host.survives(node, target)) this.terminated(target, kind, 'worker-lost');
      return;
    }
    const box = transport.out(node);
    if (op === Op.Terminated) box.push(op, target, kind, reason);
    else if (op === Op.Watch) box.push(op, target, kind);
    else box.push(op, target);
    transport.requestFlush();
  }
}
