// Sending one attempt of a task to a worker, and telling a worker to stop. By capability the router picks a live
// actor offering it (router/, with its own retries off: the task's retry policy owns retries); by target, the actor
// with that id. The attempt's outcome comes back to the graph actor as a 'settle' message to itself, so it is
// journaled (durable graphs) and handled in order with everything else.
import type { ActorContext, ActorRef } from '../../runtime/index.ts';
import { ActorNotFoundError } from '../../runtime/errors.ts';
import { TaskResultNotStorableError } from '../errors.ts';
import type { Dispatch } from '../graph/graph.ts';
import { storableProblem } from '../graph/validate.ts';
import type { TaskCancel, TaskDef, TaskError, TaskMessage } from '../types.ts';

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
  dispatch(ctx: ActorContext, def: TaskDef, message: TaskMessage, timeoutMs: number): Promise<unknown>;
  cancel(ctx: ActorContext, def: TaskDef, message: TaskCancel): void;
}

const refs = new Map<string, ActorRef>();

async function targetRef(ctx: ActorContext, id: string): Promise<ActorRef> {
  const known = refs.get(id);
  if (known !== undefined) return known;
  const ref = await ctx.lookup(id);
  if (ref === undefined) throw new ActorNotFoundError(`task target '${id}' is not running`);
  refs.set(id, ref);
  return ref;
}

export const routedDispatcher: Dispatcher = {
  async dispatch(ctx, def, message, timeoutMs) {
    if (def.target === undefined) return ctx.ask({ capability: def.capability!, retry: false }, def.type, message, { timeoutMs });
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

/**
 * Send attempt `d` and tell `self` its outcome. `inflight` holds the message ids sent from this thread and not
 * settled yet: a graph rebuilt on this thread (after its actor restarted) does not send them again.
 */
export function sendAttempt(ctx: ActorContext, dispatcher: Dispatcher, graphId: string, d: Dispatch, timeoutMs: number, durable: boolean, inflight: Set<string>): void {
  const taskId = d.def.id, attempt = d.attempt;
  const messageId = taskMessageId(graphId, taskId, attempt);
  inflight.add(messageId);
  const message: TaskMessage = { graphId, taskId, attempt, messageId, payload: d.def.payload, deps: d.deps };
  const self = ctx.self;
  const settle = (s: Settle) => {
    inflight.delete(messageId);
    ctx.tell(self, 'settle', s);
  };
  dispatcher.dispatch(ctx, d.def, message, d.def.timeoutMs ?? timeoutMs).then(
    (result) => {
      const problem = storableProblem(result, durable);
      if (problem === undefined) return settle({ taskId, attempt, ok: true, result });
      settle({ taskId, attempt, ok: false, error: toTaskError(new TaskResultNotStorableError(`task '${taskId}': result cannot be stored: ${problem}`, { details: { taskId } })) });
    },
    (err: unknown) => settle({ taskId, attempt, ok: false, error: toTaskError(unwrapRouting(err)) }),
  );
}
