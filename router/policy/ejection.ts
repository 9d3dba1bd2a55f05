// Outlier ejection as Envoy does it: `consecutiveFailures` failures in a row eject an actor for
// baseMs x (times ejected), capped at maxMs; the multiplier wears off by one per baseMs spent back in the pool.
// At most maxEjectionPercent of a pool is ejected at once, but at least one is always allowed in a pool of two or
// more, and ejection alone never leaves a pool empty. Below panicThresholdPercent healthy, the pool is balanced
// over everyone (panic mode): a pool that is mostly "unhealthy" is more likely mis-judged than broken.
import { policyOption } from './errors.ts';

export interface EjectionOptions {
  /** Failures in a row that eject (default 5). */
  readonly consecutiveFailures?: number;
  /** First ejection lasts this long; the k-th lasts k times as long (default 30 s). */
  readonly baseMs?: number;
  /** Longest ejection (default 300 s). */
  readonly maxMs?: number;
  /** Largest share of a pool ejected at once, in percent (default 10). */
  readonly maxEjectionPercent?: number;
  /** Below this share of healthy members (percent), route over all of them (default 50). */
  readonly panicThresholdPercent?: number;
}

interface Member {
  failures: number;
  times: number;
  /** Ejected until this time (0: not ejected since the last return). */
  until: number;
}

export class OutlierEjection {
  readonly consecutiveFailures: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxEjectionPercent: number;
  readonly panicThresholdPercent: number;
  private readonly members = new Map<string, Member>();

  constructor(options: EjectionOptions = {}) {
    this.consecutiveFailures = check(options.consecutiveFailures ?? 5, 'consecutiveFailures', Number.isSafeInteger, 1);
    this.baseMs = check(options.baseMs ?? 30_000, 'baseMs', Number.isFinite, 0);
    this.maxMs = check(options.maxMs ?? 300_000, 'maxMs', Number.isFinite, this.baseMs);
    this.maxEjectionPercent = check(options.maxEjectionPercent ?? 10, 'maxEjectionPercent', Number.isFinite, 0, 100);
    this.panicThresholdPercent = check(options.panicThresholdPercent ?? 50, 'panicThresholdPercent', Number.isFinite, 0, 100);
  }

  onSuccess(id: string, _now: number): void {
    const m = this.members.get(id);
    if (m !== undefined) m.failures = 0;
  }

  /**
   * A failure of `id` in a pool of `poolSize` members. Returns true when this failure ejects it. A failure
   * that reaches the threshold while the pool's ejection budget is spent does not eject; the next one tries again.
   */
  onFailure(id: string, now: number, poolSize: number): boolean {
    const m = this.member(id);
    if (m.until > now) return false;
    this.returned(m, now);
    m.failures++;
    if (m.failures < this.consecutiveFailures) return false;
    if (this.ejectedCount(now) >= this.budget(poolSize)) return false;
    m.times++;
    m.until = now + Math.min(this.maxMs, this.baseMs * m.times);
    m.failures = 0;
    return true;
  }

  isEjected(id: string, now: number): boolean {
    const m = this.members.get(id);
    return m !== undefined && m.until > now;
  }

  /** When the ejection of `id` ends (undefined when it is not ejected). */
  ejectedUntil(id: string, now: number): number | undefined {
    const m = this.members.get(id);
    return m !== undefined && m.until > now ? m.until : undefined;
  }

  /** The members to route over: the ones not ejected, or all of them in panic mode (or when none would remain). */
  eligible<T extends string>(ids: readonly T[], now: number): readonly T[] {
    if (this.ejectedCount(now) === 0) return ids;
    return panicFilter(ids, ids.filter((id) => !this.isEjected(id, now)), this.panicThresholdPercent);
  }

  /** How many members may be ejected at once in a pool of `poolSize`. */
  budget(poolSize: number): number {
    if (poolSize < 2) return 0;
    return Math.min(poolSize - 1, Math.max(1, Math.floor((poolSize * this.maxEjectionPercent) / 100)));
  }

  /** A member left the pool for good. */
  forget(id: string): void {
    this.members.delete(id);
  }

  private ejectedCount(now: number): number {
    let n = 0;
    for (const m of this.members.values()) if (m.until > now) n++;
    return n;
  }

  private member(id: string): Member {
    let m = this.members.get(id);
    if (m === undefined) this.members.set(id, (m = { failures: 0, times: 0, until: 0 }));
    return m;
  }

  /** Back from an ejection: start counting afresh, and wear the multiplier off by one per baseMs back. */
  private returned(m: Member, now: number): void {
    if (m.until === 0) return;
    const back = now - m.until;
    m.times = this.baseMs > 0 ? Math.max(0, m.times - Math.floor(back / this.baseMs)) : 0;
    m.until = 0;
    m.failures = 0;
  }
}

/**
 * Envoy's panic rule: the healthy members, unless they are fewer than `thresholdPercent` of all (or none), in
 * which case all of them.
 */
export function panicFilter<T>(all: readonly T[], healthy: readonly T[], thresholdPercent = 50): readonly T[] {
  if (healthy.length === 0 || healthy.length * 100 < all.length * thresholdPercent) return all;
  return healthy;
}

function check(x: number, name: string, ok: (x: number) => boolean, min: number, max = Infinity): number {
  if (typeof x !== 'number' || !ok(x) || x < min || x > max) {
    throw policyOption(name, `must be a number in [${min}, ${max}]${ok === Number.isSafeInteger ? ', an integer' : ''}`, x);
  }
  return x;
}
