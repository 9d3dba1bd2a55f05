export { Runtime, type RuntimeOptions } from './runtime.ts';
export * from './errors.ts';
export { systemClock, ManualClock, type Clock } from './clock.ts';
export type { ActorStats, NodeStats, RuntimeStats, DeadLetter, DeadLetterReason } from './stats.ts';
export type { Logger } from './logger.ts';
export { defineActor } from '../actors/define.ts';
export type { ActorDefinition, ActorRef, TerminationNotice, AskOptions } from '../actors/define.ts';
export type { ActorContext, SpawnOptions } from '../actors/context.ts';
export type { MailboxSpec } from '../mailbox/mailbox.ts';
