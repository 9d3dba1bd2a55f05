// The TaskGraph actor: one per graph, its state the graph's durable record (record.ts). Every message runs the
// pure graph (tasks/graph/) on a live index kept on the actor's thread (live.ts), then `pump`s: due retries become
// ready, ready tasks are dispatched up to the concurrency limits, transitions are published, what changed is written
// back into the state.
import type { Draft } from 'immer';
import { defineActor, type ActorContext, type ActorRef } from '../../runtime/index.ts';
import { errorToData } from '../../runtime/errors.ts';
import { InvalidGraphOptionError, InvalidTaskError } from '../errors.ts';
import type { TaskGraph } from '../graph/graph.ts';
import { criticalPath } from '../graph/estimate.ts';
import type { AddResult, CriticalPath, GraphSummary, Progress, TaskDef, TaskEdge, TaskEvent, TaskOutcome, TaskSpec } from '../types.ts';
import { newRecord, unpackDefs, writeBack, type GraphInit, type GraphRecord } from './record.ts';
import { forgetLive, GRAPH_KIND, liveById, liveOf, type Live } from './live.ts';
import { forgetOutcomes, outcomeCountsOf, routedDispatcher, sendAttempt, settleOf, settlesHandled, taskMessageId, writeBackDue, type Dispatcher, type Settle, type SettleEntry } from './dispatch.ts';

/** Where a graph's transitions are published (ctx.publish): subscribe with ctx.subscribe(taskTopic(id)). */
export const taskTopic = (graphId: string) => `troupe.tasks.${graphId}`;
/** The graph's actor id. */
export const graphActorId = (graphId: string) => `troupe.tasks.graph.${graphId}`;

let dispatcher: Dispatcher = routedDispatcher;

/** Replace how graphs on this thread reach workers (tests of the dispatch seam). */
export function useDispatcher(d: Dispatcher): void {
  dispatcher = d;
}

/** A handler on the live graph, followed by the pump. */
function onGraph<P, R>(fn: (g: TaskGraph, payload: P, ctx: ActorContext, state: Draft<GraphRecord>, live: Live) => R) {
  return (state: Draft<GraphRecord>, payload: P, ctx: ActorContext): R => {
    const live = liveOf(state, ctx);
    writeBackDue.delete(ctx.self.id); // this message writes back whatever changed
    if (!live.kept) {
      const result = fn(live.graph, payload, ctx, state, live);
      pump(live, state, ctx);
      return result;
    }
    live.rev = -1; // until the end: a throw below leaves the live graph out of step, and it is rebuilt
    const result = fn(live.graph, payload, ctx, state, live);
    if (pump(live, state, ctx)) state.rev++;
    live.rev = state.rev;
    return result;
  };
}

function pump(live: Live, state: Draft<GraphRecord>, ctx: ActorContext): boolean {
  const g = live.graph;
  const now = Date.now();
  // The graph's own options, not the draft's: dispatches run after the handler, when the draft is revoked.
  const options = g.opts;
  const graphId = options.graphId;
  const inflight = live.inflight;
  g.promote(now);
  if (live.paused) return writeBackAndTell(live, state, ctx, now);
  for (const i of live.resend.splice(0)) {
    if (g.nodes[i].run.status === 'running') sendAttempt(ctx, dispatcher, graphId, g.dispatchOf(i), options, inflight, applyEarly);
  }
  for (let d = g.next(now); d !== undefined; d = g.next(now)) sendAttempt(ctx, dispatcher, graphId, d, options, inflight, applyEarly);
  return writeBackAndTell(live, state, ctx, now);
}

/** The rest of the pump: transitions published, the record written back, waiters told, the next retry timed. */
function writeBackAndTell(live: Live, state: Draft<GraphRecord>, ctx: ActorContext, now: number): boolean {
  const g = live.graph;
  if (state.events) publish(live, ctx, g.takeEvents());
  const dirty = g.takeDirty();
  let changed = false;
  if (live.kept) {
    const before = state.seq + state.resolutions.length + Number(state.cancelled);
    writeBack(state as GraphRecord, live.chunks, g, dirty);
    changed = dirty.length > 0 || before !== state.seq + state.resolutions.length + Number(state.cancelled);
  }
  const counts = outcomeCountsOf(ctx.self.id);
  if (state.waiters.length > 0 && g.status() !== 'running' && counts.handled >= counts.told) {
    const summary = summaryOf(g);
    for (const w of state.waiters) ctx.tell(w as ActorRef, 'graphDone', summary);
    state.waiters = [];
    changed = true;
  }
  schedule(live, g.nextRetryAt(), now, ctx);
  return changed;
}

/**
 * Publish transitions on the graph's topic. A journal graph's may follow from outcomes applied as they arrived and
 * not on disk yet: each batch waits until the outcomes told before it are handled (journaled), so what a follower
 * sees is never undone by a crash.
 */
function publish(live: Live, ctx: ActorContext, events: TaskEvent[]): void {
  const topic = taskTopic(live.graph.opts.graphId);
  if (ctx.self.kind !== GRAPH_KIND.journal) {
    if (events.length > 0) ctx.publish(topic, 'taskEvents', events);
    return;
  }
  const counts = outcomeCountsOf(ctx.self.id);
  if (events.length > 0) live.held.push({ until: counts.told, events });
  while (live.held.length > 0 && live.held[0].until <= counts.handled) ctx.publish(topic, 'taskEvents', live.held.shift()!.events);
}

/**
 * An outcome as it arrives (a reply's callback, between messages): applied to the live index at once, and the tasks
 * it frees or makes ready sent at once, in the same outgoing batch as the other outcomes of that reply batch, as a
 * caller's own asks would be. A journal graph also tells itself the outcome ('settleMany', journaled), whose
 * handler finds it applied (complete and fail ignore an attempt that no longer runs) and writes back what changed;
 * a snapshot graph tells itself only a 'tick' (one at a time, within WRITE_BACK_MS) for the write-back, an in-memory
 * one nothing until it stops moving. The record, and what a restart resumes from, changes only in handlers; tasks
 * sent here are in no record until then (a dispatch is never recorded), so a crash before it sends them again, with
 * the same message ids. Skipped while the live index is out of step with the record (rebuilt at the next message).
 */
function applyEarly(ctx: ActorContext, s: Settle): 'settle' | 'tick' | 'later' | 'none' | 'drop' {
  const live = liveById(ctx.self.id);
  // An attempt of an actor that is gone (stopped, or another one under the id now), or of a record made anew: whoever
  // holds the graph now sends its own attempts (a finished graph, none).
  if (live === undefined || live.ctx !== ctx) return 'drop';
  if (live.rev < 0) return 'settle';
  const g = live.graph;
  if (!g.has(s.taskId) || live.paused) return 'settle';
  settle(g, s, ctx);
  const now = Date.now();
  const options = g.opts;
  for (let d = g.next(now); d !== undefined; d = g.next(now)) sendAttempt(ctx, dispatcher, options.graphId, d, options, live.inflight, applyEarly);
  schedule(live, g.nextRetryAt(), now, ctx);
  // A journal graph journals every outcome ('settleMany'); a snapshot graph needs a write-back of what changed.
  if (ctx.self.kind === GRAPH_KIND.journal) return 'settle';
  if (live.kept) return g.status() === 'running' ? 'later' : 'tick';
  // An in-memory graph has nothing to write back: its transitions are published here, and only once nothing can
  // move any more is a message needed (for the waiters, in its state).
  if (options.events === true) {
    const events = g.takeEvents();
    if (events.length > 0) ctx.publish(taskTopic(options.graphId), 'taskEvents', events);
  }
  return g.status() === 'running' ? 'none' : 'tick';
}

/** One timer per graph, for the earliest retry backoff to end: a 'tick' to itself. */
function schedule(live: Live, at: number | undefined, now: number, ctx: ActorContext): void {
  if (at === undefined || (live.timer !== undefined && live.timer.at <= at)) return;
  if (live.timer) clearTimeout(live.timer.handle);
  const self = ctx.self;
  const handle = setTimeout(() => {
    if (live.timer?.handle === handle) live.timer = undefined;
    ctx.tell(self, 'tick');
  }, Math.max(0, at - now) + 1);
  handle.unref();
  live.timer = { at, handle };
}

function summaryOf(g: TaskGraph): GraphSummary {
  const progress = g.progress();
  const s: GraphSummary = { graphId: g.opts.graphId, status: progress.status, progress };
  const stuck = g.stuck();
  if (stuck) s.stuck = stuck;
  return s;
}

function stopWorkers(g: TaskGraph, stopped: number[], ctx: ActorContext): void {
  for (const i of stopped) {
    const { def, run } = g.nodes[i];
    dispatcher.cancel(ctx, def, { graphId: g.opts.graphId, taskId: def.id, attempt: run.attempts, messageId: taskMessageId(g.opts.graphId, def.id, run.attempts) });
  }
}

function settle(g: TaskGraph, s: Settle, ctx: ActorContext): void {
  if (!g.has(s.taskId)) return;
  const i = g.indexOf(s.taskId);
  if (s.ok) g.complete(i, s.attempt, s.result, Date.now());
  else stopWorkers(g, g.fail(i, s.attempt, s.error!, Date.now(), Math.random), ctx);
}

/**
 * Definitions of a new graph handed over by a manager on this thread (tasks/manager.ts), by graph id: a durable
 * graph's 'create' carries them packed too, for the journal, and takes these rather than unpacking them (a graph on
 * another thread, or a create replayed from the journal, unpacks); an in-memory graph's carries none.
 */
export const handoffs = new Map<string, TaskDef[]>();

/** The tasks of a new graph: definitions, or (durable graphs) their packed chunks. */
export interface CreatePayload {
  defs?: TaskDef[];
  packed?: Uint8Array[];
  /** Told 'created' with the reply as soon as it is handled (a journal graph's create is sent, not asked). */
  replyTo?: ActorRef;
  /**
   * Told 'graphDone' once nothing can move (as 'await' does): the submitting manager's listener, so that done() after a
   * submit costs no message (for a journal graph 'await' was journaled, and answered once snapshotted).
   */
  waiter?: ActorRef;
}

/** The create handler's work (see 'create'). */
function create(g: TaskGraph, p: CreatePayload, state: Draft<GraphRecord>, live: Live): SubmitReply {
  try {
    // Another graph's record under this id (restored by the spawn), or tasks of a submit that crashed.
    if (g.size > 0 || state.created === true) throw new InvalidGraphOptionError(`graph '${g.opts.graphId}' has tasks already`, { details: { option: 'id', created: true } });
    state.created = true;
    const handed = handoffs.get(g.opts.graphId);
    handoffs.delete(g.opts.graphId);
    const defs = p.defs ?? handed ?? (p.packed !== undefined ? unpackDefs(p.packed) : undefined);
    if (defs === undefined) throw new InvalidTaskError(`graph '${g.opts.graphId}': its tasks were handed over on another thread`);
    if (p.packed !== undefined && live.kept) {
      state.defs = [...p.packed];
      live.chunks.depLen = defs.map((d) => d.dependsOn.length);
    }
    // (Not the ids added: the manager knows them, and a reply of 10,000 ids is walked and copied for nothing.)
    return { ok: true, added: [], resolutions: g.addDefs(defs, Date.now()).resolutions };
  } catch (err) {
    return { ok: false, error: errorToData(err) };
  }
}

/** Let go of what this thread keeps of graph actor `id` (see 'release'). */
export function releaseGraph(id: string): true {
  forgetLive(id);
  forgetOutcomes(id);
  return true;
}

export type SubmitReply = ({ ok: true } & AddResult) | { ok: false; error: ReturnType<typeof errorToData> };

const handlers = {
  /** Add tasks (and edges): accepted whole, or refused with the error (as data: the actor does not crash). */
  submit: onGraph((g, p: { tasks: TaskSpec[]; edges?: TaskEdge[] }): SubmitReply => {
    try {
      return { ok: true, ...g.add(p.tasks, Date.now(), p.edges) };
    } catch (err) {
      return { ok: false, error: errorToData(err) };
    }
  }),
  /**
   * A new graph's tasks, validated by the manager (validateBatch) against the empty graph: added as they are. A
   * durable graph's come packed as the record keeps them (record.ts packDefs), and are stored as they came.
   */
  create: onGraph((g, p: CreatePayload, ctx, state, live): SubmitReply => {
    const reply = create(g, p, state, live);
    if (reply.ok && p.waiter !== undefined) state.waiters.push(p.waiter as Draft<ActorRef>);
    if (p.replyTo !== undefined) ctx.tell(p.replyTo as ActorRef, 'created', { graphId: g.opts.graphId, reply });
    return reply;
  }),
  settle: onGraph((g, s: Settle, ctx) => settle(g, s, ctx)),
  settleMany: onGraph((g, list: SettleEntry[], ctx) => {
    settlesHandled(ctx);
    const counts = outcomeCountsOf(ctx.self.id);
    counts.handled = Math.min(counts.told, counts.handled + list.length); // (replayed: told by an earlier process)
    for (const e of list) settle(g, settleOf(e), ctx);
  }),
  tick: onGraph(() => undefined),
  /**
   * After a restart: nothing to do but pump (the live graph is rebuilt and running attempts re-sent). False for a
   * graph whose tasks never reached its record (its submit crashed before it returned).
   */
  resume: onGraph((g, _p: undefined, _ctx, state, live) => {
    live.paused = false;
    return state.created ?? g.size > 0;
  }),
  /**
   * Before the actor is stopped (a finished durable graph, or one released): what this thread keeps of the graph
   * beside the actor's state goes (its live index is the whole graph, kept from one message to the next). A durable
   * graph started again later rebuilds it from its record.
   */
  release: (_state: Draft<GraphRecord>, _p: undefined, ctx: ActorContext) => releaseGraph(ctx.self.id),
  /** The record made anew (a submit replacing the tasks of one that crashed before it returned, under its id). */
  reset: (state: Draft<GraphRecord>, init: GraphInit, ctx: ActorContext) => {
    Object.assign(state, newRecord(init), { rev: state.rev + 1 });
    forgetLive(ctx.self.id);
  },
  cancel: onGraph((g, taskId: string | undefined, ctx): SubmitReply => {
    try {
      stopWorkers(g, g.cancel(taskId, Date.now()), ctx);
      return { ok: true, added: [], resolutions: [] };
    } catch (err) {
      return { ok: false, error: errorToData(err) };
    }
  }),
  progress: onGraph((g): Progress => g.progress()),
  result: onGraph((g, taskId: string): TaskOutcome | undefined => (g.has(taskId) ? g.outcome(taskId) : undefined)),
  outcomes: onGraph((g): TaskOutcome[] => g.nodes.map((n) => g.outcome(n.def.id))),
  detectDeadlocks: onGraph((g) => g.detectDeadlocks()),
  resolutions: onGraph((g) => [...g.resolutions]),
  criticalPath: onGraph((g): CriticalPath => criticalPath(g, Date.now())),
  summary: onGraph((g) => summaryOf(g)),
  /** Tell `ref` 'graphDone' with the summary once nothing can move (at once if so already). */
  await: onGraph((_g, ref: ActorRef, _ctx, state) => {
    state.waiters.push(ref as Draft<ActorRef>);
  }),
};

/** A durable graph: every message (every outcome too) journaled, the record in LMDB; resumes after a crash. */
export const taskGraph = defineActor({
  kind: GRAPH_KIND.journal,
  persistence: { durableMailbox: true },
  init: (args: GraphInit) => newRecord(args),
  handlers,
});

/**
 * A durable graph kept by snapshots only: outcomes are not journaled, and the record is snapshotted every 10 ms. A crash loses the transitions of the last 10 ms or so; their attempts are
 * re-sent with the same message ids on resume.
 */
export const snapshotTaskGraph = defineActor({
  kind: GRAPH_KIND.snapshot,
  persistence: { snapshot: { everyMs: 10 } },
  init: (args: GraphInit) => newRecord(args),
  handlers,
});

/** The same graph in memory only (no dataDir needed; gone with the process). */
export const volatileTaskGraph = defineActor({
  kind: GRAPH_KIND.volatile,
  init: (args: GraphInit) => newRecord(args),
  handlers,
});
