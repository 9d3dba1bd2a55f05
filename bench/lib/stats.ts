/** Small statistics for bench runs: medians of repeated runs and latency percentiles (nearest rank). */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summary of one run's latency samples (any unit; the bench uses microseconds). */
export function latency(samples: readonly number[]): Latency {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return { p50: percentile(s as unknown as number[], 50), p99: percentile(s as unknown as number[], 99), max: s[s.length - 1], mean: sum / s.length };
}

/** Latency (us) of `n` sequential calls of `ask` (each awaited before the next). */
export async function sequentialLatency(n: number, ask: (i: number) => Promise<unknown>): Promise<Latency> {
  const us = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await ask(i);
    us[i] = (performance.now() - t0) * 1000;
  }
  return latency(us);
}
