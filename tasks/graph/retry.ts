// A task's retry decision, on the router's pure retry policy (router/policy/retry.ts): classification of the
// error, attempts, exponential backoff with jitter, and a deadline counted from the task's first attempt.
import { classify, nextDelay, validateRetryPolicy, type RetryPolicy } from '../../router/policy/retry.ts';
import type { TaskError, TaskRetry } from '../types.ts';

/** Tasks retry three times in all, 100 ms then 200 ms apart (with jitter), unless the graph or the task says so. */
export const DEFAULT_TASK_RETRY: Readonly<Record<string, unknown>> = Object.freeze({ maxAttempts: 3, baseMs: 100, capMs: 10_000 });

interface Resolved {
  policy: RetryPolicy;
  /** Tasks may run long: no deadline unless the spec gives one (the router's default is for single messages). */
  deadlineMs: number;
}
const cache = new WeakMap<object, Resolved>();
const single: Resolved = { policy: validateRetryPolicy({ maxAttempts: 1 }), deadlineMs: Infinity };

function resolve(spec: TaskRetry): Resolved {
  if (spec === false) return single;
  let r = cache.get(spec);
  if (r === undefined) {
    r = { policy: validateRetryPolicy(spec as Record<string, unknown>), deadlineMs: typeof spec.deadlineMs === 'number' ? spec.deadlineMs : Infinity };
    cache.set(spec, r);
  }
  return r;
}

export type RetryVerdict = { retry: true; delayMs: number } | { retry: false; why: string };

/** After attempt `attempt` failed with `error`: try again (after delayMs), or fail for good and why. */
export function decideRetry(spec: TaskRetry, attempt: number, firstStartedAt: number, now: number, error: TaskError, random: () => number): RetryVerdict {
  const { policy, deadlineMs } = resolve(spec);
  const mark = retryableMark(error);
  if (mark === false || (mark === undefined && classify(policy, error) === 'fail')) return { retry: false, why: 'not retryable' };
  if (attempt >= policy.maxAttempts) return { retry: false, why: `${attempt} attempt(s) made, the last of ${policy.maxAttempts}` };
  const delayMs = nextDelay(policy, attempt, random);
  if (now + delayMs - firstStartedAt >= deadlineMs) return { retry: false, why: `retry deadline of ${deadlineMs} ms passed` };
  return { retry: true, delayMs };
}

/**
 * A worker says what it throws is (not) worth retrying with `retryable` or `details.retryable` (details cross
 * threads with the error): the outermost mark in the cause chain wins over the policy's codes.
 */
function retryableMark(error: TaskError): boolean | undefined {
  for (let e: TaskError | undefined = error, depth = 0; e !== undefined && depth < 8; e = e.cause, depth++) {
    const m = (e as { retryable?: unknown }).retryable ?? e.details?.retryable;
    if (typeof m === 'boolean') return m;
  }
  return undefined;
}
