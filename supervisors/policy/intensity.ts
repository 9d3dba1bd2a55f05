import { checkNumber } from './errors.ts';

export interface IntensityLimits {
  /** Restarts allowed inside the window; one more gives up. 0 means the first restart gives up. */
  maxRestarts: number;
  /** Window length in ms. */
  withinMs: number;
}

/**
 * OTP restart intensity: at most `maxRestarts` restarts within any `withinMs` window, over a sliding window of
 * restart timestamps. The caller records every restart, including a failed restart attempt, and records a
 * one-for-all / rest-for-one group restart once.
 *
 * The window is inclusive at its old end, as in OTP's supervisor.erl (`R >= Now - Period` is kept): a restart
 * exactly `withinMs` ago still counts. `now` must not go backwards (use a monotonic clock).
 */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly withinMs: number;
  /** Restart timestamps, oldest first. */
  private stamps: number[] = [];

  constructor(limits: IntensityLimits) {
    this.maxRestarts = checkNumber('maxRestarts', limits.maxRestarts, { integer: true });
    this.withinMs = checkNumber('withinMs', limits.withinMs);
  }

  /** Counts a restart at `now`; 'exhausted' when it takes the window above `maxRestarts` (time to give up). */
  record(now: number): 'ok' | 'exhausted' {
    this.slide(now);
    this.stamps.push(now);
    // Only the newest maxRestarts + 1 stamps can decide the verdict, so keep no more: memory stays bounded even
    // if the caller keeps recording after 'exhausted' within a long window.
    if (this.stamps.length > this.maxRestarts + 1) this.stamps.shift();
    return this.stamps.length > this.maxRestarts ? 'exhausted' : 'ok';
  }

  /** Restarts counted in the window ending at `now`; saturates at `maxRestarts + 1` (see `record`). */
  restartsInWindow(now: number): number {
    this.slide(now);
    return this.stamps.length;
  }

  reset(): void {
    this.stamps = [];
  }

  private slide(now: number): void {
    const oldest = now - this.withinMs;
    let drop = 0;
    while (drop < this.stamps.length && this.stamps[drop] < oldest) drop++;
    if (drop > 0) this.stamps.splice(0, drop);
  }
}
