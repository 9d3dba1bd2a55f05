// Named errors of the router's pure parts. Callers branch on `code`, which is stable; facts (the option, each
// attempt) are in `details`, so they survive a thread boundary (runtime/errors.ts reviveError). Kept apart from
// router/errors.ts (the plumbing's errors) so the two halves of the router can be written side by side.
import { TroupeError, registerErrors } from '../../runtime/errors.ts';

/** resolveStrategy() with a name that is no built-in strategy (nor a function). */
export class UnknownStrategyError extends TroupeError {
  static readonly code = 'ERR_UNKNOWN_STRATEGY';
  override readonly code = 'ERR_UNKNOWN_STRATEGY';
}

/** A retry policy with a field that is not valid (`details.option` names it). */
export class InvalidRetryPolicyError extends TroupeError {
  static readonly code = 'ERR_INVALID_RETRY_POLICY';
  override readonly code = 'ERR_INVALID_RETRY_POLICY';
  get option(): string | undefined {
    return this.details?.option as string | undefined;
  }
}

/** Pool options that are not valid: min > max, a negative or non-integer size, a bad scaling field. */
export class InvalidPoolOptionError extends TroupeError {
  static readonly code = 'ERR_INVALID_POOL_OPTION';
  override readonly code = 'ERR_INVALID_POOL_OPTION';
  get option(): string | undefined {
    return this.details?.option as string | undefined;
  }
}

/** A routing policy (peak EWMA, success rate, ejection, adaptive weights) given an option that is not valid. */
export class InvalidPolicyOptionError extends TroupeError {
  static readonly code = 'ERR_INVALID_POLICY_OPTION';
  override readonly code = 'ERR_INVALID_POLICY_OPTION';
  get option(): string | undefined {
    return this.details?.option as string | undefined;
  }
}

/** InvalidPolicyOptionError naming the option, what it must be, and what it was. */
export function policyOption(option: string, must: string, value: unknown): InvalidPolicyOptionError {
  return new InvalidPolicyOptionError(`${option} ${must} (got ${show(value)})`, { details: { option } });
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** One failed attempt of a routed message: which actor, and why. */
export interface RoutingAttempt {
  readonly target: string;
  readonly code: string;
  readonly message: string;
}

/** Every attempt of a routed message failed; `details.attempts` lists each target and cause, `cause` is the last. */
export class RoutingFailedError extends TroupeError {
  static readonly code = 'ERR_ROUTING_FAILED';
  override readonly code = 'ERR_ROUTING_FAILED';
  get attempts(): readonly RoutingAttempt[] {
    return (this.details?.attempts as RoutingAttempt[] | undefined) ?? [];
  }
}

/** Build the error the plumbing throws when no attempt succeeded (`route` describes the route, for the message). */
export function routingFailed(attempts: ReadonlyArray<{ readonly target: string; readonly error: unknown }>, route?: string): RoutingFailedError {
  const listed: RoutingAttempt[] = attempts.map(({ target, error }) => ({ target, code: codeOf(error), message: messageOf(error) }));
  const what = route === undefined ? 'routed message' : `message routed to ${route}`;
  const why = listed.map((a) => `${a.target}: ${a.code}`).join('; ');
  const n = listed.length;
  return new RoutingFailedError(`${what} failed after ${n} attempt${n === 1 ? '' : 's'}${n > 0 ? ` (${why})` : ''}`, {
    cause: attempts.at(-1)?.error,
    details: { attempts: listed },
  });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'ERR_UNKNOWN';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

registerErrors(UnknownStrategyError, InvalidRetryPolicyError, InvalidPoolOptionError, InvalidPolicyOptionError, RoutingFailedError);
