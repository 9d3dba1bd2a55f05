import { checkNumber, InvalidSupervisorOptionError } from './errors.ts';

export interface CircuitOptions {
  /** Base time the circuit stays open before a trial restart. */
  resetMs: number;
  /** Cap for the open time after repeated failed trials. */
  maxResetMs: number;
  /** Factor (>= 1) applied to the open time after each failed trial. */
  multiplier: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitSnapshot {
  state: CircuitState;
  /** Present while open: when a trial will be allowed. */
  retryAt?: number;
  resetTimeoutMs: number;
  /** Times the circuit has opened, including re-opening after a failed trial. */
  trips: number;
}

/**
 * Akka-style breaker around a child whose restart intensity ran out. Open: restarts fail fast and `retryAt` says
 * until when. Once the open time has elapsed the circuit reads as half-open (lazily, from `now`; nothing ticks)
 * and admits exactly one trial restart. Its outcome closes the circuit (base open time restored) or re-opens it
 * with the open time multiplied, up to `maxResetMs`.
 *
 * Outcomes only count for an admitted trial: while open nothing is running, so there is nothing to report.
 */
export class CircuitBreaker {
  private readonly opts: CircuitOptions;
  /** 'trial' is half-open with the one trial in flight; an elapsed 'open' is half-open awaiting its trial. */
  private phase: 'closed' | 'open' | 'trial' = 'closed';
  private openedAt = 0;
  private resetTimeout: number;
  private trips = 0;

  constructor(opts: CircuitOptions) {
    const resetMs = checkNumber('resetMs', opts.resetMs);
    const maxResetMs = checkNumber('maxResetMs', opts.maxResetMs);
    if (maxResetMs < resetMs) {
      throw new InvalidSupervisorOptionError('maxResetMs', `must be >= resetMs (${resetMs}), got ${maxResetMs}`);
    }
    const multiplier = checkNumber('multiplier', opts.multiplier, { min: 1 });
    this.opts = { resetMs, maxResetMs, multiplier };
    this.resetTimeout = resetMs;
  }

  state(now: number): CircuitState {
    if (this.phase === 'closed') return 'closed';
    if (this.phase === 'trial') return 'half-open';
    return this.due(now) ? 'half-open' : 'open';
  }

  /** True when the open time has elapsed and the trial has not been admitted yet. */
  due(now: number): boolean {
    return this.phase === 'open' && now >= this.openedAt + this.resetTimeout;
  }

  /** When a trial will be allowed; undefined unless the circuit is open at `now`. */
  retryAt(now: number): number | undefined {
    return this.state(now) === 'open' ? this.openedAt + this.resetTimeout : undefined;
  }

  /**
   * May the supervisor restart the child now? Closed: always. Open: never. Half-open: true for exactly one
   * caller (the trial), then false until the trial's outcome is reported.
   */
  tryAdmit(now: number): boolean {
    if (this.phase === 'closed') return true;
    if (!this.due(now)) return false;
    this.phase = 'trial';
    return true;
  }

  /** Restart intensity ran out. Opens a closed circuit; during a trial it is the trial failing; else ignored. */
  tripped(now: number): void {
    if (this.phase === 'closed') this.open(now);
    else if (this.phase === 'trial') this.trialFailed(now);
  }

  trialSucceeded(): void {
    if (this.phase !== 'trial') return;
    this.phase = 'closed';
    this.resetTimeout = this.opts.resetMs;
  }

  trialFailed(now: number): void {
    if (this.phase !== 'trial') return;
    this.resetTimeout = Math.min(this.opts.maxResetMs, this.resetTimeout * this.opts.multiplier);
    this.open(now);
  }

  snapshot(now: number): CircuitSnapshot {
    const snap: CircuitSnapshot = { state: this.state(now), resetTimeoutMs: this.resetTimeout, trips: this.trips };
    const retryAt = this.retryAt(now);
    if (retryAt !== undefined) snap.retryAt = retryAt;
    return snap;
  }

  private open(now: number): void {
    this.phase = 'open';
    this.openedAt = now;
    this.trips++;
  }
}
