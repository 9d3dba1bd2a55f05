import { RingQueue } from './queue.ts';
import { MessageRing, type MessageSink } from './ring.ts';
import type { Envelope } from './envelope.ts';

/**
 * A mailbox holds an actor's pending messages. System messages (stop, termination notices) always go ahead of
 * user messages and are never refused. The mailbox only says whether it accepted a user message; what happens to a
 * refused one (dead letter, or failing the sender's ask) is the host's policy, decided from `overflow`.
 */
export type OverflowPolicy = 'drop' | 'fail';

export type MailboxSpec =
  | { kind: 'unbounded' }
  | { kind: 'bounded'; capacity: number; overflow?: OverflowPolicy }
  | { kind: 'priority'; priorities: Record<string, number>; capacity?: number; overflow?: OverflowPolicy };

export interface Mailbox {
  readonly overflow: OverflowPolicy;
  /** Number of user and system messages waiting. */
  readonly size: number;
  /** false when the mailbox is full (the message was not taken). */
  offer(msg: Envelope): boolean;
  /** A plain tell (no ask, no message id): queued without an envelope object. false when the mailbox is full. */
  offerTell(type: string, payload: unknown, from: string, trace?: string): boolean;
  offerSystem(msg: Envelope): void;
  /** Next message: system messages first, then user messages by the mailbox's order. */
  take(): Envelope | undefined;
  /** Same order as take(), handing the message to `sink` (a plain tell without an envelope). False when empty. */
  takeTo(sink: MessageSink): boolean;
  /**
   * Hand `sink` the plain tells next in line, up to `max`, while it takes them at once (MessageRing.shiftTellsTo);
   * 0 when the next message is not a plain tell. Same order as takeTo: system mail first (a handler may queue some).
   */
  takeTellsTo(sink: MessageSink, max: number): number;
  /** Remove every waiting message (system first), e.g. to turn them into dead letters on stop. */
  drain(): Envelope[];
}

/** Unbounded or bounded FIFO. */
class FifoMailbox implements Mailbox {
  private user = new MessageRing();
  private system: RingQueue<Envelope> | undefined;

  constructor(private readonly capacity: number, readonly overflow: OverflowPolicy) {}

  get size(): number {
    return this.user.size + (this.system?.size ?? 0);
  }
  offer(msg: Envelope): boolean {
    if (this.user.size >= this.capacity) return false;
    this.user.push(msg);
    return true;
  }
  offerTell(type: string, payload: unknown, from: string, trace = ''): boolean {
    if (this.user.size >= this.capacity) return false;
    this.user.pushTell(type, payload, from, trace);
    return true;
  }
  offerSystem(msg: Envelope): void {
    (this.system ??= new RingQueue<Envelope>(2)).push(msg);
    this.user.interrupt(); // queued by a handler in a run of tells: it goes before the rest of the run
  }
  take(): Envelope | undefined {
    if (this.system !== undefined && this.system.size > 0) return this.system.shift();
    return this.user.shift();
  }
  takeTo(sink: MessageSink): boolean {
    if (this.system !== undefined && this.system.size > 0) {
      sink.handle(this.system.shift()!);
      return true;
    }
    return this.user.shiftTo(sink);
  }
  takeTellsTo(sink: MessageSink, max: number): number {
    if (this.system !== undefined && this.system.size > 0) return 0;
    return this.user.shiftTellsTo(sink, max);
  }
  drain(): Envelope[] {
    const sys = this.system?.drain() ?? [];
    return sys.concat(this.user.drain());
  }
}

/**
 * Stable priority mailbox: higher priority first, FIFO within one priority. Priorities are per message type
 * (unlisted types get 0), so a sender needs no extra argument and the order is a property of the actor kind.
 */
class PriorityMailbox implements Mailbox {
  /** One FIFO per distinct priority, sorted highest first; few levels in practice, so a linear scan is cheapest. */
  private levels: { priority: number; queue: MessageRing }[] = [];
  private system = new RingQueue<Envelope>(2);
  private userCount = 0;

  constructor(
    private readonly priorities: Record<string, number>,
    private readonly capacity: number,
    readonly overflow: OverflowPolicy,
  ) {}

  get size(): number {
    return this.userCount + this.system.size;
  }
  offer(msg: Envelope): boolean {
    if (this.userCount >= this.capacity) return false;
    this.level(msg.type).push(msg);
    this.userCount++;
    return true;
  }
  offerTell(type: string, payload: unknown, from: string, trace = ''): boolean {
    if (this.userCount >= this.capacity) return false;
    this.level(type).pushTell(type, payload, from, trace);
    this.userCount++;
    return true;
  }
  private level(type: string): MessageRing {
    const p = this.priorities[type] ?? 0;
    let i = 0;
    while (i < this.levels.length && this.levels[i].priority > p) i++;
    if (i === this.levels.length || this.levels[i].priority !== p) {
      this.levels.splice(i, 0, { priority: p, queue: new MessageRing() });
    }
    return this.levels[i].queue;
  }
  offerSystem(msg: Envelope): void {
    this.system.push(msg);
  }
  take(): Envelope | undefined {
    if (this.system.size > 0) return this.system.shift();
    for (const level of this.levels) {
      if (level.queue.size > 0) {
        this.userCount--;
        return level.queue.shift();
      }
    }
    return undefined;
  }
  takeTo(sink: MessageSink): boolean {
    if (this.system.size > 0) {
      sink.handle(this.system.shift()!);
      return true;
    }
    for (const level of this.levels) {
      if (level.queue.size > 0) {
        this.userCount--;
        return level.queue.shiftTo(sink);
      }
    }
    return false;
  }
  /** Never a run: a message of higher priority may arrive while one is handled. */
  takeTellsTo(): number {
    return 0;
  }
  drain(): Envelope[] {
    const out = this.system.drain();
    for (const level of this.levels) out.push(...level.queue.drain());
    this.userCount = 0;
    return out;
  }
}

export function createMailbox(spec: MailboxSpec | undefined): Mailbox {
  if (spec === undefined || spec.kind === 'unbounded') return new FifoMailbox(Infinity, 'drop');
  if (spec.kind === 'bounded') return new FifoMailbox(spec.capacity, spec.overflow ?? 'drop');
  return new PriorityMailbox(spec.priorities, spec.capacity ?? Infinity, spec.overflow ?? 'drop');
}

/** Returns a problem description, or undefined when the spec is valid. */
export function mailboxSpecProblem(spec: unknown): string | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec !== 'object' || spec === null) return 'mailbox must be an object like { kind: "bounded", capacity: 100 }';
  const s = spec as Record<string, unknown>;
  const capacityOk = (c: unknown) => c === undefined || (typeof c === 'number' && Number.isInteger(c) && c > 0);
  const overflowOk = (o: unknown) => o === undefined || o === 'drop' || o === 'fail';
  switch (s.kind) {
    case 'unbounded':
      return undefined;
    case 'bounded':
      if (s.capacity === undefined || !capacityOk(s.capacity)) return 'mailbox.capacity must be a positive integer';
      return overflowOk(s.overflow) ? undefined : 'mailbox.overflow must be "drop" or "fail"';
    case 'priority': {
      if (typeof s.priorities !== 'object' || s.priorities === null) return 'mailbox.priorities must map message types to numbers';
      for (const v of Object.values(s.priorities)) if (typeof v !== 'number' || !Number.isFinite(v)) return 'mailbox.priorities values must be finite numbers';
      if (!capacityOk(s.capacity)) return 'mailbox.capacity must be a positive integer';
      return overflowOk(s.overflow) ? undefined : 'mailbox.overflow must be "drop" or "fail"';
    }
    default:
      return 'mailbox.kind must be "unbounded", "bounded" or "priority"';
  }
}
