// The manager's ear on the main thread: told 'graphDone' by graph actors it awaits, and subscribed to the topics
// of graphs someone follows. It hands both to callbacks of the TaskManager that spawned it (closures cannot live in
// actor state, so they live here, by listener id; the actor is pinned to the main thread, where they are).
import { defineActor } from '../../runtime/index.ts';
import type { GraphSummary, TaskEvent } from '../types.ts';
import type { SubmitReply } from './graph-actor.ts';

export interface Sink {
  done(summary: GraphSummary): void;
  events(events: TaskEvent[]): void;
  /** A journal graph's answer to 'create', told as soon as handled (its ask would wait for one more commit). */
  created(graphId: string, reply: SubmitReply): void;
}
export const sinks = new Map<string, Sink>();

export const taskListener = defineActor({
  kind: 'troupe.task-listener',
  init: () => ({}),
  handlers: {
    graphDone: (_s, summary: GraphSummary, ctx) => sinks.get(ctx.self.id)?.done(summary),
    taskEvents: (_s, events: TaskEvent[], ctx) => sinks.get(ctx.self.id)?.events(events),
    created: (_s, p: { graphId: string; reply: SubmitReply }, ctx) => sinks.get(ctx.self.id)?.created(p.graphId, p.reply),
    follow: (_s, topic: string, ctx) => ctx.subscribe(topic),
    unfollow: (_s, topic: string, ctx) => ctx.unsubscribe(topic),
  },
});
