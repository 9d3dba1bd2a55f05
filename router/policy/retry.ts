// When a routed message fails, whether and when to try another capable actor. Pure: the plumbing passes the
// error, the attempt number, the clock and the random source. Errors are matched by `code` or class name;
// validation-type errors are never retried (another actor would refuse the message in the same way), and an
// actor can mark what it throws as not retryable with `retryable: false` (or `details.retryable: false`), which
// the crash error it causes carries as its `cause`, across threads too.
import { InvalidRetryPolicyError, show } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included (default 3; 1 = never retry). */
  readonly maxAttempts: number;
  /** Backoff before the second attempt, doubled after each further one (default 10 ms). */
  readonly baseMs: number;
  /** Longest backoff (default 1000 ms). */
  readonly capMs: number;
  /** No attempt starts later than this after the first one started (default 30 s). */
  readonly deadlineMs: number;
  /** Codes or class names retried elsewhere (default DEFAULT_RETRY_ON). */
  readonly retryOn: readonly string[];
  /** Codes or class names never retried, wherever in the cause chain (default NEVER_RETRY_ON); wins over retryOn. */
  readonly neverRetryOn: readonly string[];
}

/** Failures of the target rather than of the message: another capable actor may well succeed. */
export const DEFAULT_RETRY_ON: readonly string[] = Object.freeze([
  'ERR_ACTOR_CRASHED', 'ERR_ASK_TIMEOUT', 'ERR_ACTOR_STOPPED', 'ERR_ACTOR_NOT_FOUND', 'ERR_CIRCUIT_OPEN',
  'ERR_WORKER_LOST', 'ERR_MAILBOX_FULL',
]);

/** Failures of the message itself (or of the caller): every actor would fail it alike. */
export const NEVER_RETRY_ON: readonly string[] = Object.freeze([
  'ERR_UNKNOWN_MESSAGE_TYPE', 'ERR_MESSAGE_NOT_CLONEABLE', 'ERR_INVALID_MESSAGE_ID', 'ERR_INVALID_SPAWN_OPTION',
  'ERR_INVALID_DEFINITION', 'ERR_DUPLICATE_MESSAGE', 'ERR_RUNTIME_STOPPED', 'ERR_INVALID_ROUTE', 'ERR_NO_ROUTE',
  'ERR_UNKNOWN_STRATEGY', 'ERR_INVALID_STRATEGY_CHOICE', 'ERR_INVALID_RETRY_POLICY', 'ERR_INVALID_POOL_OPTION',
  'ERR_ROUTING_FAILED', 'ERR_UNENCODABLE_VALUE',
]);

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3, baseMs: 10, capMs: 1000, deadlineMs: 30_000, retryOn: DEFAULT_RETRY_ON, neverRetryOn: NEVER_RETRY_ON,
});

/** No retries at all (a route's `retry: false`). */
export const NO_RETRY: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1 });

const FIELDS = new Set(Object.keys(DEFAULT_RETRY_POLICY));

/**
 * A complete policy from a partial one (missing fields take the defaults; `false` means NO_RETRY). Throws
 * InvalidRetryPolicyError, `details.option` naming the field, for anything else.
 */
export function validateRetryPolicy(p: unknown): RetryPolicy {
  if (p === undefined) return DEFAULT_RETRY_POLICY;
  if (p === false) return NO_RETRY;
  const bad = (option: string, must: string, value: unknown): never => {
    throw new InvalidRetryPolicyError(`retry policy: ${option} ${must} (got ${show(value)})`, { details: { option } });
  };
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return bad('policy', 'must be an object or false', p);
  for (const k of Object.keys(p)) if (!FIELDS.has(k)) bad(k, `is not a retry policy field (known: ${[...FIELDS].join(', ')})`, k);
  const q = { ...DEFAULT_RETRY_POLICY, ...(p as Partial<RetryPolicy>) };
  if (!Number.isSafeInteger(q.maxAttempts) || q.maxAttempts < 1) bad('maxAttempts', 'must be an integer >= 1', q.maxAttempts);
  if (typeof q.baseMs !== 'number' || !Number.isFinite(q.baseMs) || q.baseMs < 0) bad('baseMs', 'must be a finite number >= 0', q.baseMs);
  if (typeof q.capMs !== 'number' || !(q.capMs >= q.baseMs)) bad('capMs', 'must be a number >= baseMs', q.capMs);
  if (typeof q.deadlineMs !== 'number' || !(q.deadlineMs > 0)) bad('deadlineMs', 'must be a number > 0 (Infinity for none)', q.deadlineMs);
  for (const list of ['retryOn', 'neverRetryOn'] as const) {
    const v = q[list] as unknown;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) bad(list, 'must be an array of error codes or class names', v);
  }
  return Object.freeze({ ...q, retryOn: Object.freeze([...q.retryOn]), neverRetryOn: Object.freeze([...q.neverRetryOn]) });
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  retryable?: unknown;
  details?: { retryable?: unknown };
  cause?: unknown;
}

/** The error and its causes, outermost first (bounded: a cause chain may loop). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as ErrorLike).cause, depth++) {
    out.push(e as ErrorLike);
  }
  return out;
}

function matches(e: ErrorLike, list: readonly string[]): boolean {
  return (typeof e.code === 'string' && list.includes(e.code)) || (typeof e.name === 'string' && list.includes(e.name));
}

function mark(e: ErrorLike): boolean | undefined {
  if (typeof e.retryable === 'boolean') return e.retryable;
  const d = e.details?.retryable;
  return typeof d === 'boolean' ? d : undefined;
}

/**
 * 'retry' (on another actor) or 'fail'. In order: a `retryable` mark on the error or a cause (the outermost
 * wins); a never-retry code or name anywhere in the chain; the outer error's code or name in `retryOn`;
 * otherwise 'fail' (an error the policy does not know is not retried).
 */
export function classify(policy: RetryPolicy, err: unknown): 'retry' | 'fail' {
  const errors = chain(err);
  for (const e of errors) {
    const m = mark(e);
    if (m !== undefined) return m ? 'retry' : 'fail';
  }
  if (errors.some((e) => matches(e, policy.neverRetryOn))) return 'fail';
  return errors.length > 0 && matches(errors[0], policy.retryOn) ? 'retry' : 'fail';
}

/**
 * Backoff before attempt `attempt + 1`, after `attempt` failed ones (attempt >= 1): exponential, capped, with
 * "equal jitter": half fixed, half random, so retries spread out yet never come back at once.
 */
export function nextDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return exp / 2 + (exp / 2) * random();
}

/**
 * Whether to make another attempt after `attempt` failed ones, the first having started at `startedAt`: the
 * error is retryable, attempts remain, and the next one (after `delayMs`) starts before the deadline.
 */
export function shouldRetry(policy: RetryPolicy, attempt: number, startedAt: number, now: number, err: unknown, delayMs = 0): boolean {
  return planRetry(policy, attempt, startedAt, now, err, delayMs).retry;
}

export type RetryPlan = { retry: true; delayMs: number } | { retry: false; reason: 'not-retryable' | 'attempts' | 'deadline' };

/** shouldRetry with the delay drawn and the reason for a refusal, for the plumbing's dead letters and logs. */
export function planRetry(policy: RetryPolicy, attempt: number, startedAt: number, now: number, err: unknown, delayOrRandom: number | (() => number) = 0): RetryPlan {
  if (classify(policy, err) === 'fail') return { retry: false, reason: 'not-retryable' };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts' };
  const delayMs = typeof delayOrRandom === 'function' ? nextDelay(policy, attempt, delayOrRandom) : delayOrRandom;
  if (now + delayMs - startedAt >= policy.deadlineMs) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}
