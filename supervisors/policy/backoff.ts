import { checkNumber, InvalidSupervisorOptionError } from './errors.ts';

export interface BackoffOptions {
  /** Delay before the first restart of a streak. 0 gives no delay at all. */
  minMs: number;
  /** Cap of the un-jittered delay; the jittered one stays below maxMs * (1 + randomFactor). */
  maxMs: number;
  /** Jitter fraction in [0, 1], as in Akka; spreads restarts of many children that failed together. */
  randomFactor: number;
  /** A child that has run this long since its last restart without failing starts a new streak at minMs. */
  resetAfterMs: number;
}

/**
 * Akka-style exponential backoff: delay = min(maxMs, minMs * 2^k) * (1 + random() * randomFactor), where k counts
 * failures in the current streak. `random` is injected (returns [0, 1)) so tests are deterministic.
 */
export class Backoff {
  /** k: failures in the current streak, i.e. the exponent the next delay will use. */
  attempt = 0;
  private readonly opts: BackoffOptions;
  /** When the child came back after the last delay; the quiet period is measured from there. */
  private restartedAt: number | undefined;

  constructor(
    opts: BackoffOptions,
    private readonly random: () => number,
  ) {
    const minMs = checkNumber('minMs', opts.minMs);
    const maxMs = checkNumber('maxMs', opts.maxMs);
    if (maxMs < minMs) throw new InvalidSupervisorOptionError('maxMs', `must be >= minMs (${minMs}), got ${maxMs}`);
    const randomFactor = checkNumber('randomFactor', opts.randomFactor);
    if (randomFactor > 1) throw new InvalidSupervisorOptionError('randomFactor', `must be <= 1, got ${randomFactor}`);
    const resetAfterMs = checkNumber('resetAfterMs', opts.resetAfterMs);
    if (typeof random !== 'function') throw new InvalidSupervisorOptionError('random', 'must be a function');
    this.opts = { minMs, maxMs, randomFactor, resetAfterMs };
  }

  /** Registers a failure at `now` and returns how long to wait before restarting the child. */
  next(now: number): number {
    const { minMs, maxMs, randomFactor, resetAfterMs } = this.opts;
    // Measured from the restart, not from the failure: otherwise a long delay would itself look like a quiet
    // period and a child crashing right after each restart would never climb past minMs.
    if (this.restartedAt !== undefined && now - this.restartedAt >= resetAfterMs) this.attempt = 0;
    // minMs === 0 is special-cased because 0 * 2^k is NaN once 2^k overflows to Infinity.
    const base = minMs === 0 ? 0 : Math.min(maxMs, minMs * 2 ** this.attempt);
    // Clamping whatever the injected random returns (NaN included) to [0, 1] keeps the delay within
    // [base, base * (1 + randomFactor)], hence never above maxMs * (1 + randomFactor).
    const r = this.random();
    const u = r >= 0 ? Math.min(r, 1) : 0;
    const delay = base * (1 + u * randomFactor);
    this.attempt++;
    this.restartedAt = now + delay;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
    this.restartedAt = undefined;
  }
}
