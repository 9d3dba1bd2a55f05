import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime/runtime.ts';
import { TroupeError } from '../runtime/errors.ts';
import { rootLogger, type Logger } from '../runtime/logger.ts';
import { bearer, generateToken, tokenChecker, validateToken, writeTokenFile } from './token.ts';
import { BadRequestError, InvalidJsonError, InvalidOpsOptionError, UnauthorizedError } from './errors.ts';
import { OpsMetrics } from './metrics.ts';
import { registerHealth } from './health.ts';
import { registerAdmin } from './admin.ts';
import { registerView } from './view.ts';
import { normalize, statusFor } from './http-errors.ts';

export interface OpsServerOptions {
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** TCP port (default 9464; 0 picks a free one). */
  port?: number;
  /** Bearer token for mutating admin calls (default: a random one, generated at start). */
  token?: string;
  /** Where to write the token (mode 0600) for the CLI and scripts. */
  tokenFile?: string;
  logger?: Logger;
}

export interface OpsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  url: string;
  /** The bearer token mutating calls need (never sent by any endpoint). */
  token: string;
  /** The server's prom-client registry: other parts (router, agents) register their metrics here. */
  registry: Registry;
  close(): Promise<void>;
}

/** Limits that keep a slow or hostile client from holding anything up (see docs/ops.md). */
export const LIMITS = {
  bodyBytes: 256 * 1024,
  /** Headers must arrive within this (slowloris). */
  headersTimeoutMs: 5_000,
  /** The whole request must arrive within this. */
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  /** How often Node checks the two timeouts above (its default is 30 s). */
  checkIntervalMs: 1_000,
} as const;

/** Everything a route module needs. */
export interface OpsContext {
  runtime: Runtime;
  metrics: OpsMetrics;
  logger: Logger;
  /** A preHandler that refuses (401) a request without the bearer token. */
  requireToken: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * The ops HTTP server of one runtime: Prometheus metrics, health, the admin API and the live web view. Everything
 * it reads comes through the runtime's introspection calls (control requests to each thread, answered between
 * turns): no thread is ever blocked by a request.
 */
export async function startOpsServer(runtime: Runtime, options: OpsServerOptions = {}): Promise<OpsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOpsOptionError(`host must be a non-empty string, got ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOpsOptionError(`port must be an integer 0..65535, got ${JSON.stringify(port)}`);
  const token = options.token === undefined ? generateToken() : validateToken(options.token);
  if (options.tokenFile !== undefined) writeTokenFile(options.tokenFile, token);
  const logger = options.logger ?? rootLogger().child({ component: 'ops' });
  const checkToken = tokenChecker(token);

  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: LIMITS.bodyBytes,
    keepAliveTimeout: LIMITS.keepAliveTimeoutMs,
    requestTimeout: LIMITS.requestTimeoutMs,
    // Node's own timeouts are checked every connectionsCheckingInterval: 30 s by default, too slow for a slowloris.
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
      const server = createServer({
        connectionsCheckingInterval: LIMITS.checkIntervalMs,
        headersTimeout: LIMITS.headersTimeoutMs,
        requestTimeout: LIMITS.requestTimeoutMs,
      }, handler);
      return server;
    },
  });

  const metrics = new OpsMetrics(runtime);
  const ctx: OpsContext = {
    runtime,
    metrics,
    logger,
    requireToken: async (req, reply) => {
      if (checkToken(bearer(req.headers.authorization))) return;
      const err = new UnauthorizedError('this call needs the admin bearer token (Authorization: Bearer <token>)');
      await reply.code(401).header('www-authenticate', 'Bearer').send(errorBody(err));
    },
  };

  // JSON bodies: an empty one is no body (POST /stop needs none); a '__proto__' key is refused rather than carried.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text, (key, value: unknown) => {
        if (key === '__proto__') throw new BadRequestError("a '__proto__' key is not accepted");
        return value;
      }));
    } catch (err) {
      done(err instanceof BadRequestError ? err : new InvalidJsonError(`the request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((raw: unknown, _req, reply) => {
    const err = normalize(raw);
    const status = statusFor(err);
    if (status >= 500) logger.error({ err }, 'ops request failed');
    void reply.code(status).send(errorBody(err));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'ERR_NO_ROUTE', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });

  registerHealth(app, ctx);
  app.get('/metrics', async (_req, reply) => {
    const body = await metrics.scrape();
    return reply.type(metrics.contentType).send(body);
  });
  registerAdmin(app, ctx);
  registerView(app, ctx);

  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  logger.info({ url }, 'ops server listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    registry: metrics.registry,
    close: () => (closing ??= (async () => {
      await app.close();
      metrics.close();
    })()),
  };
}

/** The JSON body of a failed call: the error's stable code and message (never a stack, never the token). */
export function errorBody(err: unknown): { error: { code: string; message: string; details?: Record<string, unknown> } } {
  const e = err as { code?: unknown; message?: unknown; details?: Record<string, unknown> };
  const code = typeof e?.code === 'string' ? e.code : 'ERR_INTERNAL';
  const body: { code: string; message: string; details?: Record<string, unknown> } = { code, message: typeof e?.message === 'string' ? e.message : String(err) };
  if (err instanceof TroupeError && err.details !== undefined) body.details = err.details;
  return { error: body };
}
