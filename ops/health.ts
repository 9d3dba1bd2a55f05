import type { FastifyInstance } from 'fastify';
import type { OpsContext } from './server.ts';

export function registerHealth(app: FastifyInstance, ctx: OpsContext): void {
  app.get('/healthz', async () => {
    void ctx;
    return { ok: true };
  });
}
