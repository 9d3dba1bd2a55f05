// Interim (replaced by the router-policy branch).
import { TroupeError } from '../../runtime/errors.ts';
export interface RetryPolicy { maxAttempts: number; baseMs: number; capMs: number; deadlineMs?: number }
export function validateRetryPolicy(p: Record<string, unknown>): RetryPolicy {
  return { maxAttempts: 3, baseMs: 0, capMs: 0, ...(p as object) } as RetryPolicy;
}
const retryable = new Set(['ERR_ACTOR_CRASHED', 'ERR_ASK_TIMEOUT', 'ERR_ACTOR_STOPPED', 'ERR_ACTOR_NOT_FOUND', 'ERR_CIRCUIT_OPEN', 'ERR_WORKER_LOST', 'ERR_MAILBOX_FULL']);
export function classify(_p: RetryPolicy, err: unknown): 'retry' | 'fail' {
  return retryable.has((err as TroupeError)?.code) ? 'retry' : 'fail';
}
export function nextDelay(p: RetryPolicy, attempt: number, random: () => number): number {
  return Math.min(p.capMs, p.baseMs * 2 ** (attempt - 1)) * random();
}
export class RoutingFailedError extends TroupeError {
  static readonly code = 'ERR_ROUTING_FAILED';
  override readonly code = 'ERR_ROUTING_FAILED';
}
export function routingFailed(failures: Array<{ target: string; error: Error }>): RoutingFailedError {
  const last = failures[failures.length - 1]?.error;
  return new RoutingFailedError(`every attempt failed: ${failures.map((f) => `${f.target}: ${(f.error as TroupeError).code ?? f.error.name}`).join(', ')}`, {
    cause: last, details: { attempts: failures.map((f) => ({ target: f.target, code: (f.error as TroupeError).code, message: f.error.message })) },
  });
}
