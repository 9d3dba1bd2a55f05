import type { FastifyInstance } from 'fastify';
import type { OpsContext } from './server.ts';

export function registerView(app: FastifyInstance, ctx: OpsContext): void {
  void app;
  void ctx;
}
