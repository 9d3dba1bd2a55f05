// Sending one attempt of a task to a worker, and telling a worker to stop. By capability the router picks a live
// actor offering it (router/, with its own retries off: the task's retry policy owns retries); by target, the actor
// with that id. The attempt's outcome comes back to the graph actor as a 'settle' message to itself, so it is
// journaled (durable graphs) and handled in order with everything else.
import type { ActorContext, ActorRef } from '../../runtime/index.ts';
import type { Route } from '../../actors/define.ts';
import { ActorNotFoundError } from '../../runtime/errors.ts';
import { TaskResultNotStorableError } from '../errors.ts';
import type { Dispatch } from '../graph/graph.ts';
import { storableProblem } from '../graph/validate.ts';
import type { GraphOptions, TaskCancel, TaskDef, TaskError, TaskMessage } from '../types.ts';
import { NoRouteError } from '../../router/errors.ts';

/** The id of attempt `attempt` of a task: the same on every re-dispatch of that attempt, after a crash too. */
export function taskMessageId(graphId: string, taskId: string, attempt: number): string {
  return `${graphId}/${taskId}/${attempt}`;
}

export interface Settle {
  taskId: string;
  attempt: number;
  ok: boolean;
  result?: unknown;
  error?: TaskError;
}

/** How a graph actor reaches workers: the seam to swap (a test double, another transport). */
export interface Dispatcher {
  dispatch(ctx: ActorContext, def: TaskDef, message: TaskMessage, timeoutMs: number, sticky: boolean): Promise<unknown>;
  cancel(ctx: ActorContext, def: TaskDef, message: TaskCancel): void;
}

const refs = new Map<string, ActorRef>();
const routes = new Map<string, Route>();

/** One frozen route per capability: the router caches what it compiled of a frozen route by identity. */
function capabilityRoute(capability: string): Route {
  let r = routes.get(capability);
  if (r === undefined) routes.set(capability, (r = Object.freeze({ capability, retry: false as const })));
  return r;
}

async function targetRef(ctx: ActorContext, id: string): Promise<ActorRef> {
  const known = refs.get(id);
  if (known !== undefined) return known;
  const ref = await ctx.lookup(id);
  if (ref === undefined) throw new ActorNotFoundError(`task target '${id}' is not running`);
  refs.set(id, ref);
  return ref;
}

/**
 * Sticky choice: the capable actor with the highest hash of (task id, actor id) among the healthy ones (rendezvous
 * hashing), so every attempt and re-dispatch of a task goes to the same actor while the set of actors stays the
 * same: what workers that recognise re-dispatches by message id, each in its own state, need.
 */
function stickyRef(ctx: ActorContext, capability: string, taskId: string): ActorRef {
  const all = ctx.find({ capability });
  const healthy = all.filter((m) => m.health === 'healthy');
  let best: (typeof all)[number] | undefined, bestScore = -1;
  for (const m of healthy.length > 0 ? healthy : all) {
    const score = hash(`${taskId}\0${m.id}`);
    if (score > bestScore) (best = m), (bestScore = score);
  }
  if (best === undefined) throw new NoRouteError(`no live actor offers capability '${capability}'`);
  return { id: best.id, kind: best.kind, node: best.node };
}

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const routedDispatcher: Dispatcher = {
  async dispatch(ctx, def, message, timeoutMs, sticky) {
    if (def.target === undefined && sticky) return ctx.ask(stickyRef(ctx, def.capability!, def.id), def.type, message, { timeoutMs });
    // The router picks the least loaded. No key: a key makes the router hash it (consistent-hash), which split every
    // batch of dispatches across the worker threads at random, until the graph and its workers exchanged one
    // message per post; least-loaded sends a batch freed by one thread's replies back to that thread, as plain asks do.
    if (def.target === undefined) return ctx.ask(capabilityRoute(def.capability!), def.type, message, { timeoutMs });
    const ref = await targetRef(ctx, def.target);
    try {
      return await ctx.ask(ref, def.type, message, { timeoutMs });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_ACTOR_NOT_FOUND') refs.delete(def.target);
      throw err;
    }
  },
  cancel(ctx, def, message) {
    // By capability we do not know which actor took it: every actor offering it hears, and checks the id.
    if (def.target !== undefined) void targetRef(ctx, def.target).then((ref) => ctx.tell(ref, 'cancel', message), () => {});
    else for (const m of ctx.find({ capability: def.capability! })) ctx.tell({ id: m.id, kind: m.kind, node: m.node }, 'cancel', message);
  },
};

/**
 * The router reports a failed routed ask as RoutingFailedError (every attempt failed) with the last failure as its
 * cause; with the router's retries off there was one attempt: the task's retry policy classifies that failure.
 */
function unwrapRouting(err: unknown): unknown {
  const e = err as { code?: unknown; cause?: unknown };
  return e?.code === 'ERR_ROUTING_FAILED' && e.cause !== undefined ? e.cause : err;
}

/** Plain error data for the record: no stack (it would be stored with every failed task), the cause chain kept. */
export function toTaskError(err: unknown, depth = 0): TaskError {
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) return { name: 'Error', message: String(err) };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; details?: unknown; cause?: unknown; retryable?: unknown };
  const out: TaskError = { name: typeof e.name === 'string' ? e.name : 'Error', message: typeof e.message === 'string' ? e.message : String(err) };
  if (typeof e.code === 'string') out.code = e.code;
  const details = typeof e.details === 'object' && e.details !== null ? { ...(e.details as Record<string, unknown>) } : undefined;
  if (typeof e.retryable === 'boolean') Object.assign((out.details = details ?? {}), { retryable: e.retryable });
  else if (details !== undefined && storableProblem(details, true) === undefined) out.details = details;
  if (e.cause !== undefined && depth < 4) out.cause = toTaskError(e.cause, depth + 1);
  return out;
}

const pending = new Map<string, SettleEntry[]>();

/**
 * An outcome as journaled: `[taskId, attempt, 1, result]` or `[taskId, attempt, 0, error]` (a tuple: an object's
 * keys, written into every journal frame, were most of its encode). 'settleMany' takes these, or Settle objects (a
 * journal of an older version).
 */
export type SettleEntry = [string, number, 0 | 1, unknown] | Settle;

export function settleOf(e: SettleEntry): Settle {
  if (!Array.isArray(e)) return e;
  return e[2] === 1 ? { taskId: e[0], attempt: e[1], ok: true, result: e[3] } : { taskId: e[0], attempt: e[1], ok: false, error: e[3] as TaskError };
}
/**
 * Per graph, outcomes told to it ('settleMany') from this thread, and how many of those it has handled. An outcome
 * applied as it arrived is on disk only once its message is handled (journaled first): a journal graph reports
 * itself done only once none is left unhandled (a graph the registry marks finished is not resumed), and publishes
 * a transition only once the outcomes told before it are handled (graph-actor.ts).
 */
export const outcomeCounts = new Map<string, { told: number; handled: number }>();

/** Forget what this thread keeps of graph `id`'s outcomes (its actor is going away: graph-actor.ts 'release'). */
export function forgetOutcomes(id: string): void {
  pending.delete(id);
  awaitingHandling.delete(id);
  outcomeCounts.delete(id);
  writeBackDue.delete(id);
}

export function outcomeCountsOf(id: string): { told: number; handled: number } {
  let c = outcomeCounts.get(id);
  if (c === undefined) outcomeCounts.set(id, (c = { told: 0, handled: 0 }));
  return c;
}

/**
 * Outcomes go to the graph as 'settleMany' messages, one journal entry, one state change and one write-back for many
 * outcomes rather than one per task, and at most one of them journaled and not yet handled per graph: outcomes that
 * arrive meanwhile (while its commit is under way) wait here and go together as the next one, told as soon as that
 * one is handled (`settlesHandled`). Per batch of replies it was three to four messages per commit, each journaled,
 * handled and written back on its own. An outcome waiting here is applied already (dispatch never waits) and counted
 * as told: `done()` and the publication of what it caused wait for it as for one journaled and not handled yet; a
 * crash loses it as it loses one whose commit had not finished (the attempt is sent again on resume).
 */
function settleLater(ctx: ActorContext, s: Settle): void {
  const id = ctx.self.id;
  outcomeCountsOf(id).told++;
  const entry: SettleEntry = s.ok ? [s.taskId, s.attempt, 1, s.result] : [s.taskId, s.attempt, 0, s.error];
  const list = pending.get(id);
  if (list !== undefined) return void list.push(entry);
  pending.set(id, [entry]);
  if (awaitingHandling.get(id) !== ctx) queueMicrotask(() => tellSettles(ctx));
}

/**
 * Graphs with a 'settleMany' told and not handled yet, by the actor (context) that told it (see settleLater): an
 * actor that stopped meanwhile (a late reply to a finished graph's actor, told to nobody) holds back no later one.
 */
const awaitingHandling = new Map<string, ActorContext>();

function tellSettles(ctx: ActorContext): void {
  const id = ctx.self.id;
  const batch = pending.get(id);
  if (batch === undefined || awaitingHandling.get(id) === ctx) return;
  pending.delete(id);
  awaitingHandling.set(id, ctx);
  ctx.tell(ctx.self, 'settleMany', batch);
}

/**
 * A 'settleMany' is being handled (first thing in its handler: a throw later must not hold the next ones back): the
 * outcomes that arrived meanwhile are told now, as the next one.
 */
export function settlesHandled(ctx: ActorContext): void {
  awaitingHandling.delete(ctx.self.id);
  tellSettles(ctx);
}

/**
 * Send attempt `d` and tell `self` its outcome. `inflight` holds the message ids sent from this thread and not
 * settled yet: a graph rebuilt on this thread (after its actor restarted) does not send them again.
 */
export function sendAttempt(ctx: ActorContext, dispatcher: Dispatcher, graphId: string, d: Dispatch, opts: GraphOptions, inflight: Set<string> | undefined, early: Early): void {
  const taskId = d.def.id, attempt = d.attempt;
  const messageId = taskMessageId(graphId, taskId, attempt);
  // Already on its way (sent before a rebuild of the live graph lost its start): its outcome will come. (None for
  // a graph that is never rebuilt: an in-memory one.)
  if (inflight !== undefined) {
    if (inflight.has(messageId)) return;
    inflight.add(messageId);
  }
  const message: TaskMessage = { graphId, taskId, attempt, messageId, payload: d.def.payload, deps: d.deps };
  // Sent now, from the handler: it joins this turn's outgoing batch (a microtask later, every dispatch of a turn
  // was posted on its own flush). A throw (no capable actor for a sticky choice) is a failed attempt like any other.
  let reply: Promise<unknown>;
  try {
    reply = dispatcher.dispatch(ctx, d.def, message, d.def.timeoutMs ?? opts.timeoutMs, opts.routing === 'sticky');
  } catch (err) {
    reply = Promise.reject(err);
  }
  // (Anonymous callbacks: under tsx a named closure costs a naming call per task.)
  const durable = opts.durable;
  reply.then(
    (result) => {
      inflight?.delete(messageId);
      outcome(ctx, succeeded(taskId, attempt, result, durable), early);
    },
    (err: unknown) => {
      inflight?.delete(messageId);
      outcome(ctx, { taskId, attempt, ok: false, error: toTaskError(unwrapRouting(err)) }, early);
    },
  );
}

/**
 * Applies an outcome to the graph's live index at once and sends what it frees (graph-actor.ts), and says what is
 * left to do: 'settle', tell it to the graph (journaled, and handled: a journal graph, or one whose live index is
 * out of step); 'tick', have the graph write back what changed ('later': within WRITE_BACK_MS); 'none'; 'drop', an
 * outcome for an actor that is gone (it was not applied, and counts for nothing).
 */
export type Early = (ctx: ActorContext, s: Settle) => 'settle' | 'tick' | 'later' | 'none' | 'drop';

/**
 * Graphs told to write back and not yet handling it, at once ('now') or after WRITE_BACK_MS ('later'): one 'tick' at
 * a time, however many outcomes arrive meanwhile.
 */
export const writeBackDue = new Map<string, 'now' | 'later'>();

/** An outcome: applied at once, and told to the graph (journaled, written back) or only a write-back asked for. */
function outcome(ctx: ActorContext, s: Settle, early: Early): void {
  const then = early(ctx, s);
  if (then === 'settle') return settleLater(ctx, s);
  if (then === 'none' || then === 'drop') return;
  const id = ctx.self.id;
  const due = writeBackDue.get(id);
  if (due === 'now' || (due === 'later' && then === 'later')) return;
  writeBackDue.set(id, then === 'tick' ? 'now' : 'later');
  if (then === 'tick') return ctx.tell(ctx.self, 'tick');
  const self = ctx.self;
  setTimeout(() => ctx.tell(self, 'tick'), WRITE_BACK_MS).unref();
}

/**
 * How long a snapshot graph's write-back may wait (its record is snapshotted every 10 ms anyway: written back at
 * every batch of replies, most of what it packed was never snapshotted).
 */
export const WRITE_BACK_MS = 5;

/** A result is the task's only once it can be stored; else the attempt failed. */
function succeeded(taskId: string, attempt: number, result: unknown, durable: boolean): Settle {
  const problem = storableProblem(result, durable);
  if (problem === undefined) return { taskId, attempt, ok: true, result };
  return { taskId, attempt, ok: false, error: toTaskError(new TaskResultNotStorableError(`task '${taskId}': result cannot be stored: ${problem}`, { details: { taskId } })) };
}
