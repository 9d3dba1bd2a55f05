/**
 * A supervisor misconfiguration is a programming mistake: it is thrown when the policy is built, not discovered
 * later as odd restart behaviour. `code` is stable so callers (and errors rebuilt after crossing a thread) can
 * match on it; `option` names the offending setting.
 */
export class InvalidSupervisorOptionError extends Error {
  static readonly code = 'ERR_INVALID_SUPERVISOR_OPTION';
  readonly code = 'ERR_INVALID_SUPERVISOR_OPTION';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`invalid supervisor option "${option}": ${detail}`);
    this.name = 'InvalidSupervisorOptionError';
  }
}

/**
 * Returns `value` if it is a finite number >= `min` (and an integer when asked). Infinity is refused on purpose:
 * an infinite window or delay would silently mean "never", which is better spelled out by the caller.
 */
export function checkNumber(option: string, value: unknown, { min = 0, integer = false } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidSupervisorOptionError(option, `must be a finite number, got ${String(value)}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new InvalidSupervisorOptionError(option, `must be an integer, got ${value}`);
  }
  if (value < min) throw new InvalidSupervisorOptionError(option, `must be >= ${min}, got ${value}`);
  return value;
}
