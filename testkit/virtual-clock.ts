import type { Clock } from '../runtime/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * The runtime's clock under simulation: time moves only when the simulation moves it, and a timer never fires by
 * itself: the simulation takes due timers one at a time (earliest deadline first, then in the order they were set),
 * as scheduling steps it can interleave with deliveries and turns.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.t + Math.max(0, Number.isFinite(ms) ? ms : 0), seq, fn });
    return seq;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** The earliest timer (deadline, then creation order), if any. */
  earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers.values()) if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    return best;
  }

  /** Take a timer out to fire it. */
  take(timer: Timer): () => void {
    this.timers.delete(timer.seq);
    return timer.fn;
  }

  /** Move time forward (never back). */
  moveTo(t: number): void {
    if (t > this.t) this.t = t;
  }

  /** Forget every timer (the system they belonged to is gone). */
  clear(): void {
    this.timers.clear();
  }
}
