import { randomInt } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { ThreadServices } from '../runtime/extensions.ts';
import { ActorNotFoundError, errorToData, type ErrorData } from '../runtime/errors.ts';
import { decode, encode, Mode, type Frame, type ReplyFrame } from './codec.ts';
import { ClusterDisconnectedError, NodeLostError, PayloadTooLargeError } from './errors.ts';
import type { ActorRegistry } from './registry.ts';
import { JOURNAL, Outbox } from './outbox.ts';

/** An ask or send waiting for its answer from another node: who asked, on which thread of this node. */
interface Waiting {
  replyNode: number;
  ask: number;
  peer: string;
  at: number;
}

/** A message that missed locally, kept while its target's owner is read from the bucket (order is kept per id). */
type Held = [id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean];

/** An answer that never comes (a handler that never settles) is forgotten after this long (the asker timed out). */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * Messaging between nodes, on this node's main thread. Out: a message for an id no thread here hosts (the kernel's
 * miss hook) is published to the owner's subject; each node publishes from one connection and the owner reads its
 * subject with one subscription, so messages from one sender to one receiver keep their order (NATS keeps a
 * publisher's order per subject). Asks and sends carry a correlation number, answered on this node's reply subject.
 * In: each message is handed to the local thread hosting its target through the kernel's own delivery.
 */
export class Remote {
  private readonly waiting = new Map<number, Waiting>();
  /**
   * The last correlation number given out. It starts at random: a journaled ask is answered whenever a new owner of
   * its failover actor handles it, maybe after the asking process has died and another has joined under the same
   * node id; counting from 0 again, that process would take the old answer for one of its own asks.
   */
  private corr = randomInt(1, 2 ** 47);
  private readonly held = new Map<string, Held[]>();
  private subs: Subscription[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  connected = true;
  /** Where mail for a failover actor goes (cluster/failover.ts: its journal stream). */
  journal: ((...m: Held) => void) | undefined;
  /** With `whenDisconnected: 'wait'`: what waits for the connection (and its destination) to be back. */
  readonly outbox: Outbox | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly services: ThreadServices,
    private readonly registry: ActorRegistry,
    private readonly self: string,
    private readonly subject: { inbox: (n: string) => string; replies: (n: string) => string },
    private readonly local: Map<string, number>,
    private readonly alive: (node: string) => boolean,
    private readonly failWhenDisconnected: boolean,
  ) {
    if (!failWhenDisconnected) this.outbox = new Outbox(() => this.connected, alive, (peer) => this.probe(peer));
  }

  /** Whether `peer` has subscribed its inbox (after a reconnect): it answers a ping there. */
  private async probe(peer: string): Promise<boolean> {
    const frame: Frame = [Mode.Ping, '', '', null, this.self, 1, ''];
    await this.nc.request(this.subject.inbox(peer), encode(frame), { timeout: 2000 });
    return true;
  }

  /** The connection to NATS is back: what waited goes out, per destination once it is reachable. */
  reconnected(): void {
    this.connected = true;
    this.outbox?.reconnected();
  }

  start(): void {
    this.subs.push(this.nc.subscribe(this.subject.inbox(this.self), { callback: (err, msg) => void (err === null && this.inbound(msg)) }));
    this.subs.push(this.nc.subscribe(this.subject.replies(this.self), { callback: (err, msg) => void (err === null && this.answered(msg)) }));
    this.sweeper = setInterval(() => {
      const old = Date.now() - FORGET_AFTER_MS;
      for (const [corr, w] of this.waiting) if (w.at < old) this.waiting.delete(corr);
    }, 60_000);
    this.sweeper.unref();
  }

  // ---- out ----------------------------------------------------------------------------------------------------

  /** The kernel's miss hook (runtime/extensions.ts MissHandler). */
  readonly miss = (id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean, forwarded: boolean): boolean => {
    const thread = this.local.get(id);
    if (thread !== undefined) {
      if (forwarded || thread === 0) return false; // it came from the thread that should have it: not found there
      this.services.forward(thread, id, type, payload, from, ask, replyNode, messageId, ack);
      return true;
    }
    const queue = this.held.get(id);
    if (queue !== undefined) {
      queue.push([id, type, payload, from, ask, replyNode, messageId, ack]);
      return true;
    }
    const owner = this.registry.known(id);
    if (owner?.failover !== undefined && this.journal !== undefined) {
      this.toJournal([id, type, payload, from, ask, replyNode, messageId, ack]);
      return true;
    }
    if (owner !== undefined && owner.node !== this.self) {
      this.publish(owner.node, id, type, payload, from, ask, replyNode, messageId, ack);
      return true;
    }
    // Not known here yet (spawned elsewhere a moment ago?): read the bucket, holding what comes meanwhile, in order.
    this.held.set(id, [[id, type, payload, from, ask, replyNode, messageId, ack]]);
    void this.registry.resolve(id).catch(() => undefined).then((found) => {
      const held = this.held.get(id) ?? [];
      this.held.delete(id);
      for (const m of held) {
        if (found?.failover !== undefined && this.journal !== undefined) this.toJournal(m);
        else if (found !== undefined && found.node !== this.self) this.publish(found.node, ...m);
        else this.notFound(m[0], m[1], m[3], m[4], m[5]);
      }
    });
    return true;
  };

  private toJournal(m: Held): void {
    const journal = this.journal!;
    if (this.outbox?.holds(JOURNAL)) {
      this.outbox.park(JOURNAL, { send: () => journal(...m), fail: (err) => this.fail(m[0], m[1], m[3], m[4], m[5], err, 'worker-lost') });
    } else journal(...m);
  }

  private notFound(id: string, type: string, from: string, ask: number, replyNode: number): void {
    if (ask !== 0) this.services.reply(replyNode, ask, false, errorToData(new ActorNotFoundError(`no actor with id '${id}' in the cluster`)));
    this.services.deadLetter(id, type, from, 'not-found');
  }

  private fail(id: string, type: string, from: string, ask: number, replyNode: number, err: Error, reason: 'worker-lost' | 'not-cloneable'): void {
    if (ask !== 0) this.services.reply(replyNode, ask, false, errorToData(err));
    this.services.deadLetter(id, type, from, reason, err.message);
  }

  private publish(peer: string, id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean): void {
    if (!this.alive(peer)) return this.fail(id, type, from, ask, replyNode, new NodeLostError(`node ${peer} hosting ${id} is not in the cluster`), 'worker-lost');
    if (this.outbox?.holds(peer)) {
      const fail = (err: Error) => this.fail(id, type, from, ask, replyNode, err, 'worker-lost');
      return this.outbox.park(peer, { send: () => this.publish(peer, id, type, payload, from, ask, replyNode, messageId, ack), fail });
    }
    if (!this.connected && this.failWhenDisconnected) {
      return this.fail(id, type, from, ask, replyNode, new ClusterDisconnectedError(`the connection to NATS is down: cannot reach ${id} on node ${peer}`), 'worker-lost');
    }
    const corr = ask === 0 ? 0 : ++this.corr;
    const frame: Frame = [ask === 0 ? Mode.Tell : ack ? Mode.Send : Mode.Ask, id, type, payload, from, corr, messageId];
    let data: Uint8Array;
    try {
      data = encode(frame);
    } catch (err) {
      return this.fail(id, type, from, ask, replyNode, err as Error, 'not-cloneable');
    }
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > max) {
      const err = new PayloadTooLargeError(`'${type}' to ${id} on node ${peer} is ${data.length} bytes encoded: the NATS server takes at most ${max}`, { details: { bytes: data.length, maxPayload: max } });
      return this.fail(id, type, from, ask, replyNode, err, 'not-cloneable');
    }
    if (corr !== 0) this.waiting.set(corr, { replyNode, ask, peer, at: Date.now() });
    try {
      this.nc.publish(this.subject.inbox(peer), data, corr === 0 ? undefined : { reply: this.subject.replies(this.self) });
    } catch (err) {
      this.waiting.delete(corr);
      this.fail(id, type, from, ask, replyNode, new ClusterDisconnectedError(`cannot publish to node ${peer}: ${(err as Error).message}`), 'worker-lost');
    }
  }

  /** Wait for an answer on this node's reply subject (an ask to a failover actor: whoever hosts it answers). */
  expect(replyNode: number, ask: number): number {
    const corr = ++this.corr;
    this.waiting.set(corr, { replyNode, ask, peer: '', at: Date.now() });
    return corr;
  }

  forget(corr: number): void {
    this.waiting.delete(corr);
  }

  /** Answer `corr` on node `node`'s reply subject. */
  answer(node: string, corr: number, code: number, value: unknown): void {
    this.send(this.subject.replies(node), answerData(corr, code, value));
  }

  /**
   * An answer published late (the connection closing as the runtime shuts down) is dropped, never thrown. With
   * 'wait', an answer to a node's reply subject while the connection is down waits for that node to be reachable.
   */
  private send(subject: string, data: Uint8Array): void {
    if (this.outbox !== undefined) {
      const prefix = this.subject.replies('');
      const peer = subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
      if (peer !== undefined && peer !== this.self && this.outbox.holds(peer)) {
        return this.outbox.park(peer, { send: () => this.send(subject, data), fail: () => {} });
      }
    }
    try {
      this.nc.publish(subject, data);
    } catch {
      // closed or draining: the asker's own timeout (or shutdown) settles it
    }
  }

  private answered(msg: Msg): void {
    let frame: ReplyFrame | undefined;
    try {
      frame = decode<ReplyFrame>(msg.data);
    } catch {
      frame = undefined;
    }
    // Not an answer: the server's 503 status (no responders: the peer had not resubscribed yet after a reconnect), or
    // garbage. A throw here would stop the client's reader for good (no PONG read: the connection stale after 30 s).
    if (!Array.isArray(frame)) return;
    const [corr, code, value] = frame;
    const w = this.waiting.get(corr);
    if (w === undefined) return; // forgotten: the asker gave up long ago
    this.waiting.delete(corr);
    this.services.reply(w.replyNode, w.ask, code !== 0, value);
  }

  /** Asks and sends waiting on `peer` (gone) or on anyone (connection lost) fail now instead of timing out. */
  failWaiting(err: Error, peer?: string): void {
    for (const [corr, w] of this.waiting) {
      if (peer !== undefined && w.peer !== peer) continue;
      this.waiting.delete(corr);
      this.services.reply(w.replyNode, w.ask, false, errorToData(err));
    }
  }

  // ---- in -----------------------------------------------------------------------------------------------------

  private inbound(msg: Msg): void {
    let frame: Frame;
    try {
      frame = decode<Frame>(msg.data);
    } catch {
      return;
    }
    if (!Array.isArray(frame)) return; // not a frame (see answered())
    const [mode, to, type, payload, from, corr, messageId] = frame;
    const thread = this.local.get(to);
    const answer = (code: number, value: unknown) => {
      if (msg.reply !== undefined && corr !== 0) this.send(msg.reply, answerData(corr, code, value));
    };
    if (mode === Mode.Ping) return answer(1, null);
    if (thread === undefined) {
      if (mode === Mode.Tell) this.services.deadLetter(to, type, from, 'not-found');
      else answer(0, errorToData(new ActorNotFoundError(`no actor with id '${to}' on node ${this.self}`)));
      return;
    }
    const ref = { id: to, kind: '', node: thread };
    if (mode === Mode.Tell) return this.services.tell(ref, type, payload, from);
    const settled = mode === Mode.Ask
      ? this.services.ask(ref, type, payload, from, FORGET_AFTER_MS)
      : this.services.send(ref, type, payload, from, messageId, FORGET_AFTER_MS);
    settled.then((value) => answer(mode === Mode.Ask ? 1 : 2, value), (err: unknown) => answer(0, errorToData(err) as ErrorData));
  }

  close(): void {
    this.outbox?.close(new ClusterDisconnectedError('this node left the cluster before the connection to NATS was back'));
    clearInterval(this.sweeper);
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }
}

function answerData(corr: number, code: number, value: unknown): Uint8Array {
  try {
    return encode([corr, code, value]);
  } catch (err) {
    return encode([corr, 0, errorToData(err)]);
  }
}
