import { randomFillSync } from 'node:crypto';
import { InvalidTraceparentError } from './errors.ts';

/**
 * Trace context as plain data: every message carries a W3C `traceparent` string
 * ('00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 2 hex>'), or '' when it was sent from outside any handler
 * with none given (its handler then starts a new trace). A handler's outgoing messages carry the trace of the
 * message it handles with the handling's own span id, made once per handled message and only when it sends (or
 * logs): a chain of tells, asks and sends across actors and threads shares one trace id.
 *
 * Spans are not the kernel's business: a capability (ops/tracing, the `troupe/otel` subpath) installs a
 * MessageTracer per thread, and the kernel calls it around each handler while it says it records (the handler runs
 * inside the span: MessageSpan.run). Without one, or with one that records nothing, the cost is a string carried
 * with each message and three field writes per handled message. Once a handling ended, the actor's ctx.tell/ctx.log (from a timer, a late callback)
 * carry no message's trace: the caller's context as for a message sent from outside (MessageTracer.outside), or none.
 */

/** How a handling ended: committed, thrown or rejected, or dropped unfinished (a kill, a restart, a circuit opening). */
export type SpanOutcome = 'ok' | 'crashed' | 'abandoned';

/** The span of one handled message, as a tracer recorded it. */
export interface MessageSpan {
  /** Its own context: what the handler's outgoing messages carry (their parent is this span). */
  readonly traceparent: string;
  /** The handler finished; `error`: what it threw, for 'crashed'. */
  end(outcome: SpanOutcome, error?: unknown): void;
  /**
   * Run the handler as `fn(state, payload, ctx)` inside this span's context (for OpenTelemetry: the span is the active
   * one there, and across the awaits of an async handler, so spans the handler or an instrumented library starts are
   * its children). Arguments rather than a closure: no allocation per message.
   */
  run<A, B, C, R>(fn: (a: A, b: B, c: C) => R, a: A, b: B, c: C): R;
}

export interface MessageTracer {
  /**
   * Whether it records now. Read when the tracer is installed and whenever it calls `tracerChanged()` (a provider
   * registered or removed), never per message: while false the kernel takes the exact path of no tracer installed
   * (no call into the tracer at all: neither `start` nor `outside`).
   */
  recording(): boolean;
  /** Before a handler runs: its span, child of `parent` ('' for a new trace); undefined to record none. */
  start(parent: string, kind: string, actor: string, type: string): MessageSpan | undefined;
  /** For a message sent from outside any handler without a traceparent: the caller's context (e.g. its active span), or ''. */
  outside(): string;
}

/** This thread's tracer (one per thread: modules are per thread). */
export let messageTracer: MessageTracer | undefined;

/**
 * The installed tracer while it records, else undefined: what the kernel's message paths read (one compare per
 * message). An installed tracer that records nothing (troupe/otel with no provider registered) costs nothing more.
 */
export let recordingTracer: MessageTracer | undefined;

/** Install (or remove, with undefined) this thread's tracer. Returns the one it replaces. */
export function setMessageTracer(tracer: MessageTracer | undefined): MessageTracer | undefined {
  const previous = messageTracer;
  messageTracer = tracer;
  tracerChanged();
  return previous;
}

/** The installed tracer's `recording()` may have changed: read it again (a tracer calls this when it does). */
export function tracerChanged(): void {
  const tracer = messageTracer;
  recordingTracer = tracer !== undefined && tracer.recording() ? tracer : undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^]*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * A caller's traceparent in the form messages carry (version 00, lower case), or undefined when it is not valid
 * W3C trace context (version ff, all-zero ids, a version 00 with trailing data, bad hex...).
 */
export function parseTraceparent(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined) || traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return `00-${traceId}-${parentId}-${flags}`;
}

/** A caller-given traceparent, checked where it is given: '' for none, a named error for a bad one. */
export function callerTraceparent(value: string | undefined): string {
  if (value === undefined) return recordingTracer === undefined ? '' : recordingTracer.outside();
  const tp = parseTraceparent(value);
  if (tp === undefined) throw new InvalidTraceparentError(`traceparent ${JSON.stringify(value)} is not W3C trace context ('00-<32 hex>-<16 hex>-<2 hex>')`);
  return tp;
}

/** The trace id of a traceparent carried by a message ('' for none). */
export function traceIdOf(traceparent: string): string {
  return traceparent.length < 35 ? '' : traceparent.slice(3, 35);
}

/** The context of a handling of a message carrying `parent`: the same trace (a new one for ''), a new span id. */
export function childTraceparent(parent: string): string {
  if (parent.length !== 55) return `00-${randomHex(16)}-${randomHex(8)}-01`;
  return `${parent.slice(0, 36)}${randomHex(8)}${parent.slice(52)}`;
}

// Random bytes drawn in blocks: one system call per 512 span ids, not one per id.
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    const hex = pool.toString('hex', used, (used += bytes));
    if (hex !== ZERO_TRACE && hex !== ZERO_SPAN) return hex; // all-zero ids are invalid (2^-64 odds)
  }
}
