// Adaptive weights: "evaluate past performance, adjust selection weights". Each candidate's weight grows with its
// decaying success rate and with how fast it answers relative to the pool (peak-EWMA latency against the pool's
// median), so an actor that fails or slows down loses traffic in proportion. A floor keeps trial traffic flowing
// to every candidate (a recovering or new actor must be tried to earn its weight back).
import { policyOption } from './errors.ts';
import type { PeakEwma, SuccessRate } from './peak-ewma.ts';

export interface AdaptiveOptions {
  /** weight ~ successRate^successExponent (default 2: a 50% failer keeps a quarter of its weight from this alone). */
  readonly successExponent?: number;
  /** weight ~ (pool median latency / own latency)^latencyExponent (default 1). */
  readonly latencyExponent?: number;
  /** Most a candidate faster than the median gains from latency (default 4x), so one lucky sample cannot take all. */
  readonly maxLatencyBoost?: number;
  /**
   * Least weight, as a fraction of the pool's mean raw weight (default 0.1): in a pool of 4 where one is failing,
   * it keeps about 2.5% of the traffic.
   */
  readonly floorFraction?: number;
}

export interface PerformanceSample {
  readonly successRate: number;
  readonly latencyMs: number;
}

/** Latencies below this count as this (ms): a decayed-to-zero estimate must not divide by zero. */
const LATENCY_EPSILON_MS = 1;

/** Weights for a pool, in the order given, with mean 1 (each > 0). O(n log n) for the median. */
export function adaptiveWeights(samples: readonly PerformanceSample[], options: AdaptiveOptions = {}): number[] {
  const o = checked(options);
  if (samples.length === 0) return [];
  const reference = median(samples.map((s) => latencyOf(s)));
  const scores = samples.map((s) => score(s, reference, o));
  const top = scores.reduce((a, b) => (b > a ? b : a), 0);
  if (!(top > 0)) return samples.map(() => 1);
  // Relative to the best first, so tiny scores (a success rate near 0, squared) cannot underflow the floor to 0.
  const raw = scores.map((x) => x / top);
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  const floored = raw.map((r) => Math.max(r, o.floorFraction * mean));
  const flooredMean = floored.reduce((a, b) => a + b, 0) / floored.length;
  return floored.map((w) => w / flooredMean);
}

/** Weights by id for the ids of a pool, from this thread's latency and success trackers. */
export function weightsFor(ids: readonly string[], latency: PeakEwma, success: SuccessRate, now: number, options?: AdaptiveOptions): Map<string, number> {
  const w = adaptiveWeights(ids.map((id) => ({ successRate: success.rate(id), latencyMs: latency.latency(id, now) })), options);
  return new Map(ids.map((id, i) => [id, w[i]]));
}

function score(s: PerformanceSample, referenceMs: number, o: Required<AdaptiveOptions>): number {
  const rate = Number.isFinite(s.successRate) ? Math.min(1, Math.max(0, s.successRate)) : 0;
  const speed = Math.min(o.maxLatencyBoost, referenceMs / latencyOf(s));
  return rate ** o.successExponent * speed ** o.latencyExponent;
}

function latencyOf(s: PerformanceSample): number {
  return Number.isFinite(s.latencyMs) ? Math.max(LATENCY_EPSILON_MS, s.latencyMs) : Number.MAX_VALUE;
}

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

function checked(options: AdaptiveOptions): Required<AdaptiveOptions> {
  const o = { successExponent: 2, latencyExponent: 1, maxLatencyBoost: 4, floorFraction: 0.1, ...options };
  for (const k of ['successExponent', 'latencyExponent'] as const) {
    if (typeof o[k] !== 'number' || !(o[k] >= 0) || !Number.isFinite(o[k])) throw policyOption(k, 'must be a finite number >= 0', o[k]);
  }
  if (typeof o.maxLatencyBoost !== 'number' || !(o.maxLatencyBoost >= 1)) throw policyOption('maxLatencyBoost', 'must be a number >= 1', o.maxLatencyBoost);
  if (typeof o.floorFraction !== 'number' || !(o.floorFraction > 0 && o.floorFraction <= 1)) {
    throw policyOption('floorFraction', 'must be in (0, 1]', o.floorFraction);
  }
  return o;
}
