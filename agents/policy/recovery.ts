/**
 * What to do about a classified failure: wait (as long as retry-after says: the SDK caps it at 60 s, this does
 * not), back off, compact the conversation, or fail. Waits for rate limits and overload are not crashes: the
 * same turn continues. Transient failures are retried a few times, then the error is thrown so supervision
 * decides (restart, circuit). Fatal ones fail at once.
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Classified } from './classify.ts';

export type RecoveryAction =
  | { kind: 'wait'; delayMs: number; reason: 'retry-after' | 'backoff' }
  | { kind: 'compact' }
  | { kind: 'fail'; reason: 'fatal' | 'retries-exhausted' | 'context-too-long' };

export interface RecoveryOptions {
  backoff?: BackoffOptions;
  /** Attempts for transient failures before giving up (default 5: waits of 1, 2, 4, 8, 16 s). */
  maxTransientRetries?: number;
  /** Rate-limit / overload retries without a retry-after are not limited by count, but a run can cap them. */
  maxRateLimitRetries?: number;
  /** Compactions per turn before context-too-long fails (default 2). */
  maxCompactions?: number;
}

export interface AttemptCounts {
  /** Consecutive failures of this class in this turn, the current one included. */
  sameClass: number;
  compactions: number;
}

export function decideRecovery(f: Classified, counts: AttemptCounts, random: () => number, o: RecoveryOptions = {}): RecoveryAction {
  switch (f.class) {
    case 'fatal':
      return { kind: 'fail', reason: 'fatal' };
    case 'context-too-long':
      return counts.compactions < (o.maxCompactions ?? 2) ? { kind: 'compact' } : { kind: 'fail', reason: 'context-too-long' };
    case 'rate-limited':
    case 'overloaded':
      if (counts.sameClass > (o.maxRateLimitRetries ?? Infinity)) return { kind: 'fail', reason: 'retries-exhausted' };
      if (f.retryAfterMs !== undefined) return { kind: 'wait', delayMs: f.retryAfterMs, reason: 'retry-after' };
      return { kind: 'wait', delayMs: backoffDelay(counts.sameClass, random, o.backoff), reason: 'backoff' };
    case 'transient':
      if (counts.sameClass > (o.maxTransientRetries ?? 5)) return { kind: 'fail', reason: 'retries-exhausted' };
      return { kind: 'wait', delayMs: Math.max(f.retryAfterMs ?? 0, backoffDelay(counts.sameClass, random, o.backoff)), reason: 'backoff' };
  }
}

/** What a stop reason means for the loop; refusal and model_context_window_exceeded are handled by name. */
export type StopAction = 'done' | 'run-tools' | 'continue' | 'refused' | 'compact';

export function onStopReason(reason: string | null): StopAction {
  switch (reason) {
    case 'tool_use':
      return 'run-tools';
    case 'max_tokens': // the answer was cut: ask for the rest in a new turn
    case 'pause_turn': // a long server-side turn paused: send it back as it is to continue
      return 'continue';
    case 'refusal':
      return 'refused';
    case 'model_context_window_exceeded':
      return 'compact';
    default: // end_turn, stop_sequence, null
      return 'done';
  }
}
