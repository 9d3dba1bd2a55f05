export { RingQueue } from './queue.ts';
export { MessageRing, type MessageSink } from './ring.ts';
export { createMailbox, mailboxSpecProblem } from './mailbox.ts';
export type { Mailbox, MailboxSpec, OverflowPolicy } from './mailbox.ts';
export type { Envelope } from './envelope.ts';
export { envelope } from './envelope.ts';
