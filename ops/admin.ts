import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActorRef } from '../actors/define.ts';
import { ActorNotFoundError, UnknownMessageTypeError } from '../runtime/errors.ts';
import { parseTraceparent, traceIdOf } from '../runtime/tracing.ts';
import type { OpsContext } from './server.ts';
import { BadRequestError, CircuitNotOpenError, NotSupervisedError, PoisonMessageNotFoundError } from './errors.ts';
import { actorLeaves, actorStats, supervisionTree } from './tree.ts';

/** Longest ask the API waits for (ms). */
const MAX_ASK_TIMEOUT_MS = 60_000;

type IdParams = { Params: { id: string } };
type SeqParams = { Params: { id: string; seq: string } };

/**
 * The admin API (JSON). Reads are open to whoever reaches the server (loopback by default); every call that
 * changes something checks the bearer token first, before its body is even parsed (onRequest).
 */
export function registerAdmin(app: FastifyInstance, ctx: OpsContext): void {
  const { runtime } = ctx;
  const guarded = { onRequest: ctx.requireToken };

  const refOf = async (id: string): Promise<ActorRef> => {
    const ref = await runtime.lookup(id);
    if (ref === undefined) throw new ActorNotFoundError(`no actor with id '${id}'`);
    return ref;
  };
  const audit = (req: FastifyRequest, action: string, facts: Record<string, unknown>) => ctx.logger.info({ action, ...facts, remote: req.ip }, 'admin call');

  app.get('/api/actors', async (req) => {
    const { kind } = req.query as { kind?: string };
    const stats = await runtime.stats({ actors: true });
    const actors = stats.nodes.flatMap((n) => n.actors).filter((a) => kind === undefined || a.kind === kind)
      .map((a) => ({ ...a, supervisor: runtime.supervisorOf(a.id)?.id }));
    actors.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { actors };
  });

  app.get('/api/tree', async () => {
    const stats = await actorStats(runtime);
    const roots = supervisionTree(runtime, stats);
    const supervised = new Set([...actorLeaves(roots)].map((a) => a.id));
    const unsupervised = [...stats.values()].filter((a) => !supervised.has(a.id));
    return { roots, unsupervised };
  });

  app.get<IdParams>('/api/actors/:id', async (req) => {
    const { id } = req.params;
    const inspection = await runtime.inspect(id, { state: true });
    if (inspection === undefined) throw new ActorNotFoundError(`no actor with id '${id}'`);
    const sup = runtime.supervisorOf(id);
    const child = sup?.children().find((c) => c.id === id);
    const recentCrashes = runtime.crashes().filter((c) => c.actorId === id).slice(-10)
      .map((c) => ({ ...c, error: { name: c.error.name, message: c.error.message, code: c.error.code } }));
    return { ...inspection, supervisor: sup?.id, status: child?.status, restarts: child?.restarts, circuit: child?.circuit, recentCrashes };
  });

  app.get('/api/circuits', async () => {
    const roots = supervisionTree(runtime, new Map());
    const circuits = [...actorLeaves(roots)].filter((a) => a.circuit !== undefined)
      .map((a) => ({ id: a.id, supervisor: a.supervisor, status: a.status, restarts: a.restarts, ...a.circuit }));
    return { circuits };
  });

  // The cluster's nodes, when the runtime joined one (through the kernel's interface: ops never imports cluster/).
  app.get('/api/cluster', async () => {
    const view = runtime.clusterMembership?.view?.();
    return view === undefined ? { configured: false, nodes: [] } : { configured: true, ...view };
  });

  app.get('/api/crashes', async () => ({ crashes: runtime.crashes().map((c) => ({ ...c, error: { name: c.error.name, message: c.error.message, code: c.error.code } })) }));

  app.get('/api/dead-letters', async () => {
    const stats = await runtime.stats({ actors: false });
    return { counts: stats.deadLetters, recent: stats.recentDeadLetters };
  });

  app.get<IdParams>('/api/actors/:id/poison', async (req) => ({ messages: await runtime.poisonMessages(req.params.id) }));

  // ---- mutating calls (bearer token) -----------------------------------------------------------------------------

  app.post<IdParams>('/api/actors/:id/send', guarded, async (req) => {
    const { type, payload, messageId } = messageBody(req.body);
    if (messageId !== undefined && typeof messageId !== 'string') throw new BadRequestError('messageId must be a string');
    const ref = await checkedTarget(req.params.id, type);
    const traceparent = requestTrace(req.headers.traceparent);
    audit(req, 'send', { actor: ref.id, messageType: type, trace_id: traceIdOf(traceparent ?? '') || undefined });
    const receipt = await runtime.send(ref, type as never, payload as never, { messageId, traceparent } as never);
    return { receipt };
  });

  app.post<IdParams>('/api/actors/:id/ask', guarded, async (req) => {
    const { type, payload, timeoutMs } = messageBody(req.body);
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || (timeoutMs as number) <= 0 || (timeoutMs as number) > MAX_ASK_TIMEOUT_MS)) {
      throw new BadRequestError(`timeoutMs must be an integer 1..${MAX_ASK_TIMEOUT_MS}`);
    }
    const ref = await checkedTarget(req.params.id, type);
    const traceparent = requestTrace(req.headers.traceparent);
    audit(req, 'ask', { actor: ref.id, messageType: type, trace_id: traceIdOf(traceparent ?? '') || undefined });
    const reply = await runtime.ask(ref, type as never, payload as never, { timeoutMs: (timeoutMs as number | undefined) ?? 5000, traceparent } as never);
    return { reply: reply === undefined ? null : reply };
  });

  app.post<IdParams>('/api/actors/:id/stop', guarded, async (req) => {
    const ref = await refOf(req.params.id);
    audit(req, 'stop', { actor: ref.id });
    await runtime.stop(ref);
    return { stopped: ref.id };
  });

  app.post<IdParams>('/api/actors/:id/restart', guarded, async (req) => {
    const ref = await refOf(req.params.id);
    if (runtime.supervisorOf(ref.id) === undefined) throw new NotSupervisedError(`${ref.id} has no supervisor to restart it`);
    audit(req, 'restart', { actor: ref.id });
    await runtime.restart(ref);
    return { restarted: ref.id };
  });

  app.post<IdParams>('/api/circuits/:id/reset', guarded, async (req) => {
    const { id } = req.params;
    const sup = runtime.supervisorOf(id);
    if (sup === undefined) {
      if ((await runtime.lookup(id)) === undefined) throw new ActorNotFoundError(`no actor with id '${id}'`);
      throw new NotSupervisedError(`${id} is not supervised: it has no circuit`);
    }
    audit(req, 'reset-circuit', { actor: id });
    if (!runtime.resetCircuit(id)) throw new CircuitNotOpenError(`the circuit of ${id} is not open`);
    return { reset: id };
  });

  app.post<SeqParams>('/api/actors/:id/poison/:seq/requeue', guarded, async (req) => {
    const ref = await refOf(req.params.id);
    const seq = seqOf(req.params.seq);
    audit(req, 'requeue-poison', { actor: ref.id, seq });
    const receipt = await runtime.requeuePoisonMessage(ref, seq);
    if (receipt === undefined) throw new PoisonMessageNotFoundError(`no poison message ${seq} for ${ref.id}`);
    return { receipt };
  });

  app.post<SeqParams>('/api/actors/:id/poison/:seq/drop', guarded, async (req) => {
    const seq = seqOf(req.params.seq);
    audit(req, 'drop-poison', { actor: req.params.id, seq });
    if (!(await runtime.dropPoisonMessage(req.params.id, seq))) throw new PoisonMessageNotFoundError(`no poison message ${seq} for ${req.params.id}`);
    return { dropped: seq };
  });

  /** The target's ref, once its thread confirms it has a handler for `type` (a tell to an unknown type would only be a dead letter). */
  async function checkedTarget(id: string, type: string): Promise<ActorRef> {
    const info = await runtime.inspect(id, { state: false });
    if (info === undefined) throw new ActorNotFoundError(`no actor with id '${id}'`);
    if (!info.messageTypes.includes(type)) {
      throw new UnknownMessageTypeError(`${info.kind} (${id}) has no handler for '${type}'`, { details: { messageTypes: info.messageTypes } });
    }
    return { id, kind: info.kind, node: info.node };
  }
}

function messageBody(body: unknown): { type: string; payload: unknown; messageId?: unknown; timeoutMs?: unknown } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object: { "type": ..., "payload": ... }');
  const b = body as Record<string, unknown>;
  if (typeof b.type !== 'string' || b.type.length === 0) throw new BadRequestError('"type" must be a non-empty string');
  return { type: b.type, payload: b.payload, messageId: b.messageId, timeoutMs: b.timeoutMs };
}

function seqOf(raw: string): number {
  const seq = Number(raw);
  if (!Number.isSafeInteger(seq) || seq <= 0) throw new BadRequestError(`seq must be a positive integer, got '${raw}'`);
  return seq;
}

/**
 * The W3C `traceparent` header of an admin request, continued by the message it sends; a malformed one is ignored
 * (the message starts a new trace), as trace context says a receiver must.
 */
function requestTrace(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? parseTraceparent(header) : undefined;
}
