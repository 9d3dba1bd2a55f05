export { Runtime, type RuntimeOptions, type RuntimeMetrics, type RuntimeLifecycle } from './runtime.ts';
export type { ThreadMetrics, KindMetrics, HistogramData } from './thread-metrics.ts';
export { DURATION_BUCKETS_MS } from './thread-metrics.ts';
export * from './errors.ts';
export { systemClock, ManualClock, type Clock } from './clock.ts';
export type { ActorStats, NodeStats, RuntimeStats, DeadLetter, DeadLetterReason, ActorInspection } from './stats.ts';
export type { PoisonMessage } from '../persistence/store.ts';
export type { Logger } from './logger.ts';
export { defineActor } from '../actors/define.ts';
export type { ActorDefinition, ActorRef, TerminationNotice, AskOptions } from '../actors/define.ts';
export type { ActorContext, SpawnOptions } from '../actors/context.ts';
export type { MailboxSpec } from '../mailbox/mailbox.ts';
export {
  setMessageTracer, tracerChanged, parseTraceparent, traceIdOf,
  type MessageTracer, type MessageSpan, type SpanOutcome,
} from './tracing.ts';
