/**
 * The local Messages API server: a real HTTP server on 127.0.0.1 that @anthropic-ai/sdk talks to through
 * `baseURL`. Per request, in the order the API applies them: authentication, validation, the context window
 * ("prompt is too long"), the script's rule (which may answer with an error), the server's rate limits, then
 * the message, whole or streamed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidScriptError } from '../errors.ts';
import { estimateInputTokens } from '../tokens.ts';
import { RequestLog, promptDigest } from './log.ts';
import { ServerRateLimiter, type ServerLimits } from './limits.ts';
import { ERROR_STATUS, buildMessage, errorBody, errorType, sse, streamMessage } from './respond.ts';
import { RequestView, type ErrorKind, type MessagesRequest, type Rule, type ScriptedReply } from './script.ts';

export interface ModelServerOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Tried in order for each request; the first reply wins. */
  rules?: Rule[];
  /** When no rule answers (default: the text "done"). */
  fallback?: ScriptedReply;
  limits?: ServerLimits;
  /** Prompts above this many input tokens get the 400 "prompt is too long: N tokens > M maximum". */
  contextWindow?: number;
  /** Accepted x-api-key values; any key is accepted when omitted. */
  apiKeys?: string[];
  /** Characters per streamed delta (default 16) and a pause between deltas (default 0). */
  chunkChars?: number;
  chunkDelayMs?: number;
  /** Added before every answer (default 0). */
  latencyMs?: number;
  /** For the rate-limit buckets (default Date.now). */
  now?: () => number;
}

export interface ModelServer {
  /** Pass as `baseURL` to the SDK client. */
  readonly baseURL: string;
  readonly port: number;
  readonly log: RequestLog;
  /** Replace the script (the log and the limits carry on). */
  setRules(rules: Rule[], fallback?: ScriptedReply): void;
  /** TCP connections accepted so far (a client that keeps its connections alive opens few). */
  connections(): number;
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  validate(options);
  const now = options.now ?? Date.now;
  const log = new RequestLog();
  const limiter = new ServerRateLimiter(options.limits ?? {}, now());
  let rules = options.rules ?? [];
  let fallback: ScriptedReply = options.fallback ?? { text: 'done' };
  let requests = 0;
  let seq = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = `req_${(++seq).toString().padStart(8, '0')}`;
    const path = (req.url ?? '').split('?')[0];
    const base = { 'request-id': requestId, 'content-type': 'application/json' };
    const fail = (kind: ErrorKind, status: number, message?: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...base, ...limiter.headers(now()), ...extra });
      res.end(JSON.stringify(errorBody(kind, message, requestId)));
    };
    const raw = await readBody(req);
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return fail('not_found', 404, `${req.method} ${path}: not found`);
    const key = header(req, 'x-api-key') ?? header(req, 'authorization')?.replace(/^Bearer /, '');
    if (options.apiKeys && (!key || !options.apiKeys.includes(key))) return fail('authentication', 401);
    let body: MessagesRequest;
    try {
      body = JSON.parse(raw) as MessagesRequest;
    } catch {
      return fail('invalid_request', 400, 'request body is not valid JSON');
    }
    const problem = requestProblem(body, path === '/v1/messages');
    if (problem) return fail('invalid_request', 400, problem);
    const inputTokens = estimateInputTokens(body);
    if (path === '/v1/messages/count_tokens') {
      res.writeHead(200, base);
      return void res.end(JSON.stringify({ input_tokens: inputTokens }));
    }

    const index = ++requests;
    const digest = promptDigest(body.system, body.messages);
    const stream = body.stream === true;
    const entry = { index, requestId, path, at: now(), doneAt: 0, stream, model: body.model, promptDigest: digest, messageCount: body.messages.length, inputTokens, outputTokens: 0, status: 200, outcome: 'ok' };
    const record = (status: number, outcome: string, extra: Partial<typeof entry> & { stopReason?: string } = {}) => log.add({ ...entry, doneAt: now(), status, outcome, ...extra });

    if (options.contextWindow !== undefined && inputTokens > options.contextWindow) {
      record(400, 'invalid_request_error');
      return fail('invalid_request', 400, `prompt is too long: ${inputTokens} tokens > ${options.contextWindow} maximum`);
    }
    const view = new RequestView(body, index, inputTokens, key);
    const reply = rules.reduce<ScriptedReply | undefined>((r, rule) => r ?? rule(view), undefined) ?? fallback;
    const delay = (options.latencyMs ?? 0) + ('delayMs' in reply ? reply.delayMs ?? 0 : 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));

    if ('hangUp' in reply) {
      record(0, 'hang-up');
      return void res.socket?.destroy();
    }
    if ('error' in reply) {
      const type = errorType(reply.error);
      if (reply.inStream && stream) {
        // The overloaded case the SDK must handle: a 200 whose stream carries an `error` event.
        record(200, type);
        res.writeHead(200, { ...base, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...limiter.headers(now()) });
        sse(res, 'message_start', { type: 'message_start', message: { id: `msg_${requestId}`, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } });
        sse(res, 'error', errorBody(reply.error, reply.message, requestId));
        return void res.end();
      }
      const status = reply.status ?? ERROR_STATUS[reply.error];
      record(status, type);
      const extra: Record<string, string> = reply.retryAfterS !== undefined ? { 'retry-after': String(reply.retryAfterS) } : {};
      return fail(reply.error, status, reply.message, extra);
    }
    const admitted = limiter.admit(inputTokens, body.max_tokens, now());
    if (!admitted.ok) {
      record(429, 'rate_limit_error');
      const retryAfter = String(Math.max(1, Math.ceil(admitted.retryAfterMs / 1000)));
      return fail('rate_limit', 429, `This request would exceed your organization's rate limit of ${admitted.limit} per minute`, { 'retry-after': retryAfter });
    }
    const message = buildMessage(reply, body.model, inputTokens, body.max_tokens, digest, `msg_${requestId.slice(4)}`);
    limiter.settleOutput(body.max_tokens, message.usage.output_tokens, now());
    const done = () => record(200, 'ok', { outputTokens: message.usage.output_tokens, stopReason: message.stop_reason });
    if (!stream) {
      res.writeHead(200, { ...base, ...limiter.headers(now()) });
      res.end(JSON.stringify(message));
      return done();
    }
    res.writeHead(200, { ...base, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...limiter.headers(now()) });
    await streamMessage(res, message, options.chunkChars ?? 16, options.chunkDelayMs ?? 0);
    res.end();
    done();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
    });
  });
  // Above undici's keepAliveTimeoutThreshold (1 s), which it subtracts from the server's hint: at 1 s fetch kept no
  // connection and every request paid a TCP connect and a teardown (a real API keeps its connections).
  server.keepAliveTimeout = 10_000;
  let connections = 0;
  server.on('connection', () => void connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${port}`,
    port,
    log,
    setRules(r, f) {
      rules = r;
      if (f) fallback = f;
    },
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requestProblem(b: MessagesRequest, needsMaxTokens: boolean): string | undefined {
  if (typeof b !== 'object' || b === null) return 'body must be an object';
  if (typeof b.model !== 'string' || b.model === '') return 'model: Field required';
  if (needsMaxTokens && (typeof b.max_tokens !== 'number' || b.max_tokens < 1)) return 'max_tokens: Field required';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of b.messages.entries()) {
    if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i === 0 && m.role !== 'user') return 'messages: first message must use the "user" role';
  }
  if (b.tools !== undefined && (!Array.isArray(b.tools) || b.tools.some((t) => typeof t?.name !== 'string'))) return 'tools: each tool needs a name';
  return undefined;
}

function validate(o: ModelServerOptions): void {
  if (o.rules !== undefined && (!Array.isArray(o.rules) || o.rules.some((r) => typeof r !== 'function'))) throw new InvalidScriptError('rules must be an array of functions');
  if (o.contextWindow !== undefined && !(o.contextWindow > 0)) throw new InvalidScriptError('contextWindow must be a positive number');
  for (const [k, v] of Object.entries(o.limits ?? {})) if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new InvalidScriptError(`limits.${k} must be a positive number`);
  if (o.chunkChars !== undefined && !(o.chunkChars >= 1)) throw new InvalidScriptError('chunkChars must be >= 1');
}
