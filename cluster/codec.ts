import { Packr } from 'msgpackr';

/**
 * Frames between nodes, msgpack-encoded (what the journal uses too: plain data, Maps, Dates, BigInts come back as
 * they were). No shared record structures: every frame decodes on its own, whatever the receiver saw before.
 */
const packr = new Packr({ useRecords: false, moreTypes: true });

/** A message to an actor of another node (Ping: is this node's inbox subscribed? answered at once, no actor). */
export const Mode = { Tell: 0, Ask: 1, Send: 2, Ping: 3 } as const;
export type Frame = [mode: number, to: string, type: string, payload: unknown, from: string, corr: number, messageId: string];
/** Its answer: code 0 an error (ErrorData), 1 a reply value, 2 a send's receipt `{ messageId, duplicate }`. */
export type ReplyFrame = [corr: number, code: number, value: unknown];

/** A message in a failover actor's journal; `replyTo` names the node whose reply subject an ask's answer goes to. */
export type JournalFrame = [mode: number, type: string, payload: unknown, from: string, corr: number, messageId: string, replyTo: string];

/** A failover actor's snapshot (cluster/snapshots.ts): the owner's token, the journal seq, whether a state is in it. */
export type SnapshotFrame = [token: number, seq: number, hasState: number, state: unknown];

type Any = Frame | ReplyFrame | JournalFrame | SnapshotFrame;
export const encode = (frame: Any): Uint8Array => packr.pack(frame);
export const decode = <T extends Any>(data: Uint8Array): T => packr.unpack(data) as T;
