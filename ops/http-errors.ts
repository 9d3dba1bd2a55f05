import { BodyTooLargeError, InvalidJsonError } from './errors.ts';

/** The HTTP status of a failed admin call, from the error's stable code (runtime errors keep theirs). */
const byCode: Record<string, number> = {
  ERR_UNAUTHORIZED: 401,
  ERR_ACTOR_NOT_FOUND: 404,
  ERR_POISON_NOT_FOUND: 404,
  ERR_BAD_REQUEST: 400,
  ERR_INVALID_JSON: 400,
  ERR_BODY_TOO_LARGE: 413,
  ERR_CIRCUIT_NOT_OPEN: 409,
  ERR_UNKNOWN_MESSAGE_TYPE: 400,
  ERR_MESSAGE_NOT_CLONEABLE: 400,
  ERR_INVALID_MESSAGE_ID: 400,
  ERR_INVALID_SPAWN_OPTION: 400,
  ERR_NOT_SUPERVISED: 409,
  ERR_ACTOR_STOPPED: 409,
  ERR_DUPLICATE_MESSAGE: 409,
  ERR_ACTOR_CRASHED: 502,
  ERR_HANDLER_TIMEOUT: 502,
  ERR_CIRCUIT_OPEN: 503,
  ERR_MAILBOX_FULL: 503,
  ERR_RUNTIME_STOPPED: 503,
  ERR_WORKER_LOST: 503,
  ERR_ASK_TIMEOUT: 504,
};

export function statusFor(err: unknown): number {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'string' && byCode[e.code] !== undefined) return byCode[e.code]!;
  // Fastify's own refusals (body too large: 413, unparseable JSON: 400, wrong content type: 415) keep theirs.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return e.statusCode;
  return 500;
}

/** Fastify's own body refusals, as the admin API's named errors (stable codes for the CLI and scripts). */
export function normalize(err: unknown): unknown {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (e?.statusCode === 413 || e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new BodyTooLargeError(`the request body is over the limit (${String(e.message ?? '')})`);
  const parse = e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err instanceof SyntaxError && e.statusCode === 400);
  if (parse) return new InvalidJsonError(`the request body is not valid JSON: ${String(e.message ?? '')}`);
  return err;
}
