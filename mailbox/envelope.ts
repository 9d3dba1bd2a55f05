/**
 * One message in flight. Plain data with a fixed shape (monomorphic for the JIT).
 * `ask` is 0 for a tell, otherwise the ask id at `replyNode`, where the caller's promise waits.
 */
export interface Envelope {
  type: string;
  payload: unknown;
  /** Sender actor id, or '' when sent from outside any actor. Reported with dead letters. */
  from: string;
  ask: number;
  replyNode: number;
  /** Message id (durable mailboxes: sender-given for dedup, or generated); '' otherwise. */
  id: string;
  /** Journal sequence number once journaled (durable mailboxes); 0 otherwise. */
  seq: number;
  /** W3C traceparent of the sender's context (runtime/tracing.ts); '' when sent from outside any trace. */
  trace: string;
}

export function envelope(type: string, payload: unknown, from: string, ask: number, replyNode: number, id = '', trace = ''): Envelope {
  return { type, payload, from, ask, replyNode, id, seq: 0, trace };
}
