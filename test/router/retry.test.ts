import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_RETRY_POLICY, NO_RETRY, classify, nextDelay, planRetry, shouldRetry, validateRetryPolicy,
} from '../../router/policy/retry.ts';
import { InvalidRetryPolicyError, RoutingFailedError, routingFailed } from '../../router/policy/errors.ts';
import {
  ActorCrashedError, ActorNotFoundError, ActorStoppedError, AskTimeoutError, CircuitOpenError, MailboxFullError,
  MessageNotCloneableError, UnknownMessageTypeError, WorkerLostError, InvalidMessageIdError, errorToData, reviveError,
} from '../../runtime/errors.ts';
import { numRuns, thrown } from './helpers.ts';

const P = DEFAULT_RETRY_POLICY;
/** As the caller sees it: the error made on the target's thread, posted as data and revived. */
const across = (err: Error) => reviveError(errorToData(err));
const crash = (cause: unknown) => new ActorCrashedError('reviewer (r1) crashed handling review', { cause });

describe('classify', () => {
  it('retries failures of the target elsewhere', () => {
    for (const Cls of [ActorCrashedError, AskTimeoutError, ActorStoppedError, ActorNotFoundError, CircuitOpenError, WorkerLostError, MailboxFullError]) {
      expect(classify(P, across(new Cls('x')))).toBe('retry');
    }
  });

  it('never retries validation errors, nor errors it does not know', () => {
    for (const err of [new UnknownMessageTypeError('x'), new MessageNotCloneableError('x'), new InvalidMessageIdError('x'), new Error('x'), 'a string', undefined]) {
      expect(classify(P, err instanceof Error ? across(err) : err)).toBe('fail');
    }
  });

  it('honours an actor marking what it throws as not retryable, through the crash cause and across threads', () => {
    const mine = Object.assign(new Error('this diff is malformed'), { retryable: false });
    expect(classify(P, across(crash(mine)))).toBe('fail');
    const viaDetails = Object.assign(new Error('quota'), { details: { retryable: false } });
    expect(classify(P, across(crash(viaDetails)))).toBe('fail');
    expect(classify(P, across(crash(new TypeError('oops'))))).toBe('retry');
  });

  it('lets an explicit retryable: true retry what the policy would not', () => {
    const err = Object.assign(new Error('rate limited upstream'), { code: 'E_UPSTREAM_429', retryable: true });
    expect(classify(P, across(err))).toBe('retry');
  });

  it('never retries a validation error anywhere in the cause chain', () => {
    expect(classify(P, across(crash(new UnknownMessageTypeError('no handler'))))).toBe('fail');
  });

  it('matches by class name as well as by code, and never-retry wins', () => {
    const p = validateRetryPolicy({ retryOn: ['TypeError'], neverRetryOn: ['ERR_ASK_TIMEOUT'] });
    expect(classify(p, new TypeError('x'))).toBe('retry');
    expect(classify(p, new AskTimeoutError('x'))).toBe('fail');
  });

  it('survives a cause chain that loops', () => {
    const a = new ActorCrashedError('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classify(P, a)).toBe('retry');
  });
});

describe('nextDelay', () => {
  it('doubles from base, capped, with equal jitter in [d/2, d]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, r) => {
        const d = nextDelay(P, attempt, () => r);
        const exp = Math.min(P.capMs, P.baseMs * 2 ** (attempt - 1));
        expect(d).toBeGreaterThanOrEqual(exp / 2);
        expect(d).toBeLessThanOrEqual(exp);
      }),
      { numRuns },
    );
    expect(nextDelay(P, 1, () => 0)).toBe(5);
    expect(nextDelay(P, 3, () => 1)).toBe(40);
  });
});

describe('shouldRetry / planRetry', () => {
  const timeout = new AskTimeoutError('slow');

  it('stops after maxAttempts attempts in all', () => {
    expect(shouldRetry(P, 1, 0, 0, timeout)).toBe(true);
    expect(shouldRetry(P, 2, 0, 0, timeout)).toBe(true);
    expect(shouldRetry(P, 3, 0, 0, timeout)).toBe(false);
    expect(planRetry(P, 3, 0, 0, timeout)).toEqual({ retry: false, reason: 'attempts' });
    expect(shouldRetry(NO_RETRY, 1, 0, 0, timeout)).toBe(false);
  });

  it('starts no attempt at or past the overall deadline, counting the backoff', () => {
    const p = validateRetryPolicy({ deadlineMs: 1000 });
    expect(shouldRetry(p, 1, 0, 900, timeout, 50)).toBe(true);
    expect(shouldRetry(p, 1, 0, 900, timeout, 100)).toBe(false);
    expect(planRetry(p, 1, 0, 1000, timeout)).toEqual({ retry: false, reason: 'deadline' });
  });

  it('refuses a non-retryable error first, and draws the delay when given a random source', () => {
    expect(planRetry(P, 1, 0, 0, new UnknownMessageTypeError('x'))).toEqual({ retry: false, reason: 'not-retryable' });
    expect(planRetry(P, 2, 0, 0, timeout, () => 0)).toEqual({ retry: true, delayMs: 10 });
  });
});

describe('validateRetryPolicy', () => {
  it('fills defaults, and maps false to no retries', () => {
    expect(validateRetryPolicy(undefined)).toBe(DEFAULT_RETRY_POLICY);
    expect(validateRetryPolicy(false).maxAttempts).toBe(1);
    expect(validateRetryPolicy({ maxAttempts: 5 })).toMatchObject({ maxAttempts: 5, baseMs: 10, capMs: 1000 });
    expect(validateRetryPolicy({ deadlineMs: Infinity }).deadlineMs).toBe(Infinity);
  });

  it('throws InvalidRetryPolicyError naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ maxAttempts: 0 }, 'maxAttempts'], [{ maxAttempts: 2.5 }, 'maxAttempts'], [{ baseMs: -1 }, 'baseMs'],
      [{ baseMs: 100, capMs: 50 }, 'capMs'], [{ deadlineMs: 0 }, 'deadlineMs'], [{ retryOn: 'ERR_X' }, 'retryOn'],
      [{ neverRetryOn: [''] }, 'neverRetryOn'], [{ maxAttempt: 3 }, 'maxAttempt'], [42, 'policy'], [null, 'policy'],
    ];
    for (const [p, option] of cases) {
      const err = thrown(() => validateRetryPolicy(p));
      expect(err).toBeInstanceOf(InvalidRetryPolicyError);
      expect(err.code).toBe('ERR_INVALID_RETRY_POLICY');
      expect(err.details?.option).toBe(option);
      expect(err.message).toContain(option);
    }
  });
});

describe('routingFailed', () => {
  it('lists every attempt with its target, code and message, keeps the last as cause, and crosses threads', () => {
    const err = routingFailed([
      { target: 'r1', error: across(crash(new Error('boom'))) },
      { target: 'r2', error: new AskTimeoutError('no reply in 5000 ms') },
      { target: 'r3', error: 'a string' },
    ], "{ capability: 'code-review' }");
    expect(err).toBeInstanceOf(RoutingFailedError);
    expect(err.code).toBe('ERR_ROUTING_FAILED');
    expect(err.attempts).toEqual([
      { target: 'r1', code: 'ERR_ACTOR_CRASHED', message: 'reviewer (r1) crashed handling review' },
      { target: 'r2', code: 'ERR_ASK_TIMEOUT', message: 'no reply in 5000 ms' },
      { target: 'r3', code: 'ERR_UNKNOWN', message: 'a string' },
    ]);
    expect(err.message).toContain('3 attempts');
    expect(err.message).toContain('code-review');
    const revived = across(err) as RoutingFailedError;
    expect(revived).toBeInstanceOf(RoutingFailedError);
    expect(revived.attempts.map((a) => a.target)).toEqual(['r1', 'r2', 'r3']);
    expect(classify(P, revived)).toBe('fail');
  });
});
