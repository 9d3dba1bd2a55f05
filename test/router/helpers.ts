import fc from 'fast-check';
import type { Candidate, StrategyState } from '../../router/types.ts';

export const numRuns = Number(process.env.TROUPE_FC_RUNS ?? 100);

/** A candidate with neutral defaults; `over` sets what a test cares about. */
export function cand(id: string, over: Partial<Candidate> = {}): Candidate {
  return {
    id, kind: 'worker', node: 0, capabilities: ['work'], queued: 0, inFlight: 0, health: 'healthy',
    preferred: 0, latencyMs: 10, successRate: 1, weight: 1, ...over,
  };
}

/** A seeded random source in [0, 1) (mulberry32), so a failing property replays exactly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function state(random: () => number = Math.random, now = 0, memory: Record<string, unknown> = {}): StrategyState {
  return { now, random, memory };
}

/** Candidates with distinct ids and arbitrary load, latency, preference and weight. */
export const candidatesArb = (min = 1, max = 12) =>
  fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 8 }),
      queued: fc.nat(20),
      inFlight: fc.nat(20),
      preferred: fc.nat(2),
      latencyMs: fc.double({ min: 0, max: 5000, noNaN: true }),
      weight: fc.double({ min: 0.01, max: 10, noNaN: true }),
    }),
    { minLength: min, maxLength: max, selector: (c) => c.id },
  ).map((rs) => rs.map((r) => cand(r.id, r)));

/** Capture what `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}
