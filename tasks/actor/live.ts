// What a graph actor keeps on its thread beside its state: the live index (tasks/graph/graph.ts, the whole graph,
// from one message to the next), the attempts in flight from this thread, the transitions held back. It belongs to
// one actor (its context) and to one rev of its record: a crash of a handler (state rolled back), a restart or a
// fresh process finds the rev moved, or another actor under the id, and rebuilds it from the record, re-sending the
// attempts that were running and are not in flight from this thread.
import type { Draft } from 'immer';
import type { ActorContext } from '../../runtime/index.ts';
import type { TaskGraph } from '../graph/graph.ts';
import type { TaskEvent } from '../types.ts';
import { forgetOutcomes, taskMessageId } from './dispatch.ts';
import { plainRecord, restoreGraph, type Chunks, type GraphRecord } from './record.ts';

/** The kinds of graph actor (graph-actor.ts): durable with a journal, durable by snapshots, in memory. */
export const GRAPH_KIND = { journal: 'troupe.task-graph', snapshot: 'troupe.task-graph.snapshot', volatile: 'troupe.task-graph.volatile' } as const;

export interface Live {
  /**
   * The actor it belongs to: another actor under the same id (a respawn, or a runtime started again in this process)
   * starts afresh, as a new process would (its attempts in flight are another actor's).
   */
  ctx: ActorContext;
  graph: TaskGraph;
  rev: number;
  /**
   * Whether the record keeps the tasks (a durable graph). An in-memory graph's tasks live in this index only: its
   * state holds the options and waiters, so there is nothing to write back and nothing to rebuild from; the index
   * belongs to the record's `instance` (a new actor under the same id starts afresh).
   */
  kept: boolean;
  instance: string | undefined;
  /** The record's task chunks as last written (record.ts). */
  chunks: Chunks;
  timer?: { at: number; handle: NodeJS.Timeout };
  /** Running tasks to re-send after a rebuild (their attempts are not in flight from this thread). */
  resend: number[];
  /** Message ids in flight from this thread (inflights): none kept for an in-memory graph, which is never rebuilt. */
  inflight: Set<string> | undefined;
  /** A journal graph's transitions not published yet: each once the outcomes told before it are handled. */
  held: Array<{ until: number; events: TaskEvent[] }>;
  /**
   * A journal graph started from its record (a new process, a respawn) dispatches nothing until told 'resume': the
   * outcomes journaled after its last snapshot are replayed first, and a dispatch before them sent again tasks
   * whose outcome was already on disk.
   */
  paused: boolean;
}
const lives = new Map<string, Live>();
const inflights = new Map<string, Set<string>>();

/** The live index of the actor handling a message, rebuilt from its record when out of step. */
export function liveOf(state: Draft<GraphRecord>, ctx: ActorContext): Live {
  let live = lives.get(ctx.self.id);
  if (live === undefined || live.ctx !== ctx) {
    // Another actor's (or none): what this thread counted of its outcomes is not this one's either.
    if (live !== undefined) forgetLive(ctx.self.id);
    forgetOutcomes(ctx.self.id);
    live = undefined;
  }
  if (live !== undefined && (live.kept ? live.rev === state.rev : live.instance === state.instance)) return live;
  const record = plainRecord(state as GraphRecord);
  const { graph, chunks } = restoreGraph(record);
  const inflight = inflightOf(ctx.self.id);
  const resend = graph.running().filter((i) => !inflight.has(taskMessageId(record.graphId, graph.nodes[i].def.id, graph.nodes[i].run.attempts)));
  if (live?.timer) clearTimeout(live.timer.handle);
  const kept = ctx.self.kind !== GRAPH_KIND.volatile;
  graph.recording = kept;
  // (A rebuild keeps it: a handler that threw during the replay must not let the next message dispatch.)
  const paused = live !== undefined ? live.paused : ctx.self.kind === GRAPH_KIND.journal && record.created === true;
  live = { ctx, graph, rev: record.rev, kept, instance: record.instance, chunks, resend, inflight: kept ? inflight : undefined, held: live?.held ?? [], paused };
  lives.set(ctx.self.id, live);
  return live;
}

/** How many graphs' live indexes this thread holds (a finished graph's actor lets go of its own: 'release'). */
export function liveGraphCount(): number {
  return lives.size;
}

function inflightOf(id: string): Set<string> {
  let s = inflights.get(id);
  if (s === undefined) inflights.set(id, (s = new Set()));
  return s;
}

/** The live index of actor `id` on this thread, as it is (applyEarly: between messages). */
export function liveById(id: string): Live | undefined {
  return lives.get(id);
}

/** Let go of actor `id`'s live index and in-flight ids (its actor is going away, or its record was made anew). */
export function forgetLive(id: string): void {
  const live = lives.get(id);
  if (live?.timer) clearTimeout(live.timer.handle);
  lives.delete(id);
  inflights.delete(id);
}
