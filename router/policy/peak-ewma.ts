// Per-candidate latency and success rate as this thread observed them: the scores strategies read.
// Peak EWMA (Finagle, Linkerd): a sample above the estimate is taken at once (peak), a sample below it is blended
// in with weight 1 - exp(-elapsed / tau), and a read decays the estimate toward zero with the time since the last
// sample, so an actor left alone is tried again. A failure or a 429 counts as a penalty latency (Linkerd's rule)
// so a fast failure never looks like a fast success.
import { policyOption } from './errors.ts';

export interface PeakEwmaOptions {
  /** Decay time constant in ms (default 10 s). */
  readonly tauMs?: number;
  /** Estimate of a candidate never observed (pessimistic; default 250 ms). Its first sample replaces it. */
  readonly startMs?: number;
  /** Latency a failure counts as (default 5000 ms). */
  readonly penaltyMs?: number;
  /** Cap on a retry-after taken as the penalty (default 300 s). */
  readonly maxPenaltyMs?: number;
}

/** The latency a failure counts as: `penaltyMs`, or the retry-after when larger, capped at `maxPenaltyMs`. */
export function penalty(retryAfterMs?: number, options: PeakEwmaOptions = {}): number {
  const base = options.penaltyMs ?? 5000;
  const cap = options.maxPenaltyMs ?? 300_000;
  const after = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? retryAfterMs : 0;
  return Math.min(cap, Math.max(base, after));
}

interface Estimate {
  value: number;
  at: number;
}

export class PeakEwma {
  readonly tauMs: number;
  readonly startMs: number;
  private readonly options: PeakEwmaOptions;
  private readonly estimates = new Map<string, Estimate>();

  constructor(options: PeakEwmaOptions = {}) {
    this.options = options;
    this.tauMs = positive(options.tauMs ?? 10_000, 'tauMs');
    this.startMs = nonNegative(options.startMs ?? 250, 'startMs');
  }

  /** A completed message took `latencyMs`. */
  observe(id: string, latencyMs: number, now: number): void {
    const sample = Math.max(0, Number.isFinite(latencyMs) ? latencyMs : 0);
    const e = this.estimates.get(id);
    if (e === undefined) return void this.estimates.set(id, { value: sample, at: now });
    if (sample > e.value) e.value = sample;
    else {
      const w = Math.exp(-Math.max(0, now - e.at) / this.tauMs);
      e.value = e.value * w + sample * (1 - w);
    }
    e.at = Math.max(e.at, now);
  }

  /** A message failed (crash, timeout, 429...): counts as the penalty latency. */
  fail(id: string, now: number, retryAfterMs?: number): void {
    this.observe(id, penalty(retryAfterMs, this.options), now);
  }

  /** The estimate now (ms): decayed toward zero since the last sample; `startMs` for a candidate never observed. */
  latency(id: string, now: number): number {
    const e = this.estimates.get(id);
    if (e === undefined) return this.startMs;
    return e.value * Math.exp(-Math.max(0, now - e.at) / this.tauMs);
  }

  forget(id: string): void {
    this.estimates.delete(id);
  }
}

export interface SuccessRateOptions {
  /** Decay time constant in ms (default 10 s). */
  readonly tauMs?: number;
  /** Least weight of one sample (default 0.05, a window of ~20 outcomes), so a busy actor's rate moves per outcome too. */
  readonly minWeight?: number;
}

/** Decaying success ratio, 0..1, per candidate; 1 for a candidate never observed. */
export class SuccessRate {
  readonly tauMs: number;
  readonly minWeight: number;
  private readonly rates = new Map<string, Estimate>();

  constructor(options: SuccessRateOptions = {}) {
    this.tauMs = positive(options.tauMs ?? 10_000, 'tauMs');
    this.minWeight = options.minWeight ?? 0.05;
    if (!(this.minWeight > 0 && this.minWeight <= 1)) throw policyOption('minWeight', 'must be in (0, 1]', this.minWeight);
  }

  record(id: string, ok: boolean, now: number): void {
    const sample = ok ? 1 : 0;
    const e = this.rates.get(id);
    // A new candidate starts from the optimistic prior 1, as if just observed.
    if (e === undefined) return void this.rates.set(id, { value: 1 - (1 - sample) * this.minWeight, at: now });
    const w = Math.max(this.minWeight, 1 - Math.exp(-Math.max(0, now - e.at) / this.tauMs));
    e.value = e.value * (1 - w) + sample * w;
    e.at = Math.max(e.at, now);
  }

  rate(id: string): number {
    return this.rates.get(id)?.value ?? 1;
  }

  forget(id: string): void {
    this.rates.delete(id);
  }
}

function positive(x: number, name: string): number {
  if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x)) throw policyOption(name, 'must be a positive number of ms', x);
  return x;
}

function nonNegative(x: number, name: string): number {
  if (typeof x !== 'number' || !(x >= 0) || !Number.isFinite(x)) throw policyOption(name, 'must be a non-negative number of ms', x);
  return x;
}
