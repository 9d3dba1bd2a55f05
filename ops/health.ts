import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime/runtime.ts';
import type { Supervisor } from '../supervisors/supervisor.ts';
import type { OpsContext } from './server.ts';

/** How long a thread has to answer a health ping. */
export const PING_DEADLINE_MS = 1000;

export interface Check {
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

/** Liveness: the process answers (this handler runs) and so does every thread, within PING_DEADLINE_MS. */
export async function liveness(runtime: Runtime): Promise<Check & { threads: Array<{ node: number; ok: boolean; ms: number; error?: string }> }> {
  if (runtime.lifecycle === 'stopped') return { ok: false, reason: 'the runtime is shut down', threads: [] };
  const threads = await runtime.ping(PING_DEADLINE_MS);
  const bad = threads.filter((t) => !t.ok);
  if (bad.length === 0) return { ok: true, threads };
  return { ok: false, reason: bad.map((t) => `thread ${t.node}: ${t.error ?? 'no answer'}`).join('; '), threads };
}

/** Readiness: running (not shutting down), every supervisor (recursively) running, the store open if one is configured. */
export function readiness(runtime: Runtime): Check & { lifecycle: string; supervisors: Array<{ id: string; status: string }>; store: ReturnType<Runtime['storeStatus']> } {
  const supervisors: Array<{ id: string; status: string }> = [];
  const walk = (sup: Supervisor, path: string) => {
    supervisors.push({ id: path, status: sup.status });
    for (const c of sup.children()) {
      const sub = c.type === 'supervisor' ? sup.child(c.id) : undefined;
      if (sub !== undefined) walk(sub, `${path}/${c.id}`);
    }
  };
  for (const root of runtime.supervisors()) walk(root, root.id);
  const store = runtime.storeStatus();
  const lifecycle = runtime.lifecycle;
  const reasons: string[] = [];
  if (lifecycle !== 'running') reasons.push(`the runtime is ${lifecycle}`);
  for (const s of supervisors) if (s.status !== 'running') reasons.push(`supervisor ${s.id} is ${s.status}`);
  if (store.configured && !store.open) reasons.push(`the store is not open: ${store.error ?? 'closed'}`);
  return reasons.length === 0 ? { ok: true, lifecycle, supervisors, store } : { ok: false, reason: reasons.join('; '), lifecycle, supervisors, store };
}

export function registerHealth(app: FastifyInstance, ctx: OpsContext): void {
  app.get('/healthz', async (_req, reply) => {
    const check = await liveness(ctx.runtime);
    return reply.code(check.ok ? 200 : 503).send(check);
  });
  app.get('/readyz', async (_req, reply) => {
    const check = readiness(ctx.runtime);
    return reply.code(check.ok ? 200 : 503).send(check);
  });
}
