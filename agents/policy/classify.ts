/**
 * Failure classification: every error out of a model call (an SDK error, an `error` event inside a streamed 200,
 * a network failure) gets a class, and the class decides the action. Reads the error's shape (status, type,
 * message, headers), not its class, so it works the same for errors rebuilt after crossing a thread.
 */
export type FailureClass =
  | 'rate-limited' // 429
  | 'overloaded' // 529, or overloaded_error inside a stream
  | 'transient' // network errors, timeouts, 408/409, other 5xx
  | 'context-too-long' // 400 "prompt is too long: N tokens > M maximum"
  | 'fatal'; // authentication, permission, billing, invalid request, not found: never retried

export const FAILURE_CLASSES: readonly FailureClass[] = ['rate-limited', 'overloaded', 'transient', 'context-too-long', 'fatal'];

export interface Classified {
  class: FailureClass;
  /** What the API said to wait (retry-after / retry-after-ms), uncapped, in ms. */
  retryAfterMs?: number;
  /** For context-too-long: the numbers from the message. */
  promptTokens?: number;
  maxTokens?: number;
  status?: number;
  type?: string;
  message: string;
}

interface ErrorShape {
  status?: number;
  type?: string | null;
  message?: string;
  name?: string;
  headers?: { get(name: string): string | null } | Record<string, string>;
  error?: { error?: { type?: string; message?: string }; type?: string };
}

const PROMPT_TOO_LONG = /prompt is too long:\s*(\d+)\s*tokens\s*>\s*(\d+)\s*maximum/i;

export function classifyFailure(err: unknown): Classified {
  const e = (err ?? {}) as ErrorShape;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const type = e.type ?? e.error?.error?.type ?? e.error?.type ?? undefined;
  const message = String(e.message ?? err);
  const base = { status, type: type ?? undefined, message };
  const tooLong = PROMPT_TOO_LONG.exec(message);
  if (tooLong && (status === 400 || status === 413 || type === 'invalid_request_error')) {
    return { ...base, class: 'context-too-long', promptTokens: Number(tooLong[1]), maxTokens: Number(tooLong[2]) };
  }
  if (status === 429 || type === 'rate_limit_error') return { ...base, class: 'rate-limited', retryAfterMs: retryAfterMs(e.headers) };
  if (status === 529 || type === 'overloaded_error') return { ...base, class: 'overloaded', retryAfterMs: retryAfterMs(e.headers) };
  if (status === undefined) {
    // No HTTP status: a connection error, a timeout, an abort, or an error event of another type inside a stream.
    if (type === 'api_error' || type === 'timeout_error' || type === undefined) return { ...base, class: 'transient' };
    return { ...base, class: FATAL_TYPES.has(type) ? 'fatal' : 'transient' };
  }
  if (status === 408 || status === 409 || status >= 500) return { ...base, class: 'transient', retryAfterMs: retryAfterMs(e.headers) };
  return { ...base, class: 'fatal' };
}

const FATAL_TYPES = new Set(['authentication_error', 'permission_error', 'billing_error', 'invalid_request_error', 'not_found_error']);

function retryAfterMs(h: ErrorShape['headers']): number | undefined {
  if (!h) return undefined;
  const get = (n: string) => (typeof (h as { get?: unknown }).get === 'function' ? (h as { get(n: string): string | null }).get(n) : (h as Record<string, string>)[n]) ?? null;
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const ra = get('retry-after');
  if (ra === null) return undefined;
  const s = Number(ra);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
