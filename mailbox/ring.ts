import { envelope, type Envelope } from './envelope.ts';

/** Slots per queued message: type, payload, sender, traceparent. */
const STRIDE = 4;
/** In the sender slot: the message is not a plain tell, and its Envelope is in the payload slot. */
const WHOLE = Symbol('envelope');
const NONE: unknown[] = [];

/** What a mailbox hands its messages to (an actor): plain tells as their fields, any other message whole. */
export interface MessageSink {
  handle(env: Envelope): void;
  /** Returns whether the sink takes the next message at once (see shiftTellsTo). */
  handleTell(type: string, payload: unknown, from: string, trace: string): boolean;
}

/**
 * The FIFO of a mailbox, kept as a struct of arrays: one ring with four slots per message instead of one object
 * per message. A plain tell (no ask, no message id, no journal sequence), the bulk of the traffic, is stored as its
 * type, payload, sender and traceparent, and allocates nothing; any other message keeps its Envelope (in the payload slot).
 *
 * Why: in a deep queue every envelope object survives young-generation collections and is copied by each of them
 * (a third of the same-thread tell figure went to GC). Strings and small numbers in the ring are not copied. The
 * actor takes a plain tell as its fields (`shiftTo`); `shift` makes an envelope for it, which dies young.
 *
 * The buffer is allocated on first use (most actors are idle: heap per idle actor matters). Like any ring here it
 * keeps its peak size: regrowing it after every burst measured a third slower on the tell figure.
 */
export class MessageRing {
  private buf: unknown[] = NONE;
  /** Slot index of the oldest message (a multiple of STRIDE). */
  private head = 0;
  private count = 0;
  /** Set when mail that goes first arrives (interrupt): the run of tells being handed stops before the next. */
  private interrupted = false;

  get size(): number {
    return this.count;
  }

  /** Queue a plain tell without allocating an envelope for it. */
  pushTell(type: string, payload: unknown, from: string, trace = ''): void {
    const i = this.tail();
    const buf = this.buf;
    buf[i] = type;
    buf[i + 1] = payload;
    buf[i + 2] = from;
    buf[i + 3] = trace;
    this.count++;
  }

  push(env: Envelope): void {
    const i = this.tail();
    const buf = this.buf;
    buf[i] = env.type;
    buf[i + 1] = env;
    buf[i + 2] = WHOLE;
    buf[i + 3] = '';
    this.count++;
  }

  shift(): Envelope | undefined {
    if (this.count === 0) return undefined;
    const buf = this.buf;
    const i = this.head;
    const from = buf[i + 2];
    const env = from === WHOLE ? (buf[i + 1] as Envelope) : envelope(buf[i] as string, buf[i + 1], from as string, 0, 0, '', buf[i + 3] as string);
    buf[i] = buf[i + 1] = buf[i + 2] = buf[i + 3] = undefined;
    this.head = i + STRIDE === buf.length ? 0 : i + STRIDE;
    this.count--;
    return env;
  }

  /** Take the oldest message and hand it to `sink` (a plain tell without an envelope). False when empty. */
  shiftTo(sink: MessageSink): boolean {
    if (this.count === 0) return false;
    const buf = this.buf;
    const i = this.head;
    const type = buf[i] as string;
    const payload = buf[i + 1];
    const from = buf[i + 2];
    const trace = buf[i + 3] as string;
    buf[i] = buf[i + 1] = buf[i + 2] = buf[i + 3] = undefined;
    this.head = i + STRIDE === buf.length ? 0 : i + STRIDE;
    this.count--;
    // Taken before the hand-off: the handler may queue more mail here.
    if (from === WHOLE) sink.handle(payload as Envelope);
    else sink.handleTell(type, payload, from as string, trace);
    return true;
  }

  /**
   * Hand the plain tells at the head of the ring to `sink`, oldest first, up to `max` of them, while the sink says it
   * takes the next one at once and nothing interrupts. Stops before any other message. Returns how many were handed.
   * A run of tells is one loop here instead of one call chain per message through the mailbox.
   */
  shiftTellsTo(sink: MessageSink, max: number): number {
    this.interrupted = false;
    let n = 0;
    while (n < max && this.count > 0 && !this.interrupted) {
      const buf = this.buf;
      const i = this.head;
      const from = buf[i + 2];
      if (from === WHOLE) break;
      const type = buf[i] as string;
      const payload = buf[i + 1];
      const trace = buf[i + 3] as string;
      buf[i] = buf[i + 1] = buf[i + 2] = buf[i + 3] = undefined;
      this.head = i + STRIDE === buf.length ? 0 : i + STRIDE;
      this.count--;
      n++;
      // Taken before the hand-off: the handler may queue more mail here.
      if (!sink.handleTell(type, payload, from as string, trace)) break;
    }
    return n;
  }

  /** Stop the run of tells in progress (shiftTellsTo) before its next message: the mailbox has mail that goes first. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** Remove and return every message, oldest first. */
  drain(): Envelope[] {
    const out: Envelope[] = new Array(this.count);
    for (let k = 0; k < out.length; k++) out[k] = this.shift()!;
    return out;
  }

  /** Slot index for one more message, growing the buffer when it is full. */
  private tail(): number {
    const len = this.buf.length;
    if (this.count * STRIDE === len) return this.grow();
    const i = this.head + this.count * STRIDE;
    return i >= len ? i - len : i;
  }

  private grow(): number {
    const old = this.buf;
    const used = this.count * STRIDE;
    const next: unknown[] = new Array(Math.max(4 * STRIDE, old.length * 2));
    for (let k = 0, j = this.head; k < used; k++) {
      next[k] = old[j];
      if (++j === old.length) j = 0;
    }
    this.buf = next;
    this.head = 0;
    return used;
  }
}
