import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adaptiveWeights, weightsFor } from '../../router/policy/adaptive.ts';
import { InvalidPolicyOptionError } from '../../router/policy/errors.ts';
import { PeakEwma, SuccessRate } from '../../router/policy/peak-ewma.ts';
import { weightedAdaptive } from '../../router/strategies/index.ts';
import { cand, numRuns, seeded, thrown } from './helpers.ts';

const sampleArb = fc.record({ successRate: fc.double({ min: 0, max: 1, noNaN: true }), latencyMs: fc.double({ min: 0, max: 10_000, noNaN: true }) });

describe('adaptiveWeights', () => {
  it('gives positive weights of mean 1, each at least the floor share (property)', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 20 }), (samples) => {
        const w = adaptiveWeights(samples);
        expect(w.length).toBe(samples.length);
        expect(w.reduce((a, b) => a + b, 0) / w.length).toBeCloseTo(1, 9);
        // floor f = 0.1 of the raw mean; flooring raises the mean by at most f, so every weight is >= f / (1 + f)
        for (const x of w) expect(x).toBeGreaterThan(0.09);
      }),
      { numRuns },
    );
  });

  it('ranks a better success rate at equal latency, and a lower latency at equal success, higher (property)', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 2, maxLength: 10 }), fc.nat(), fc.nat(), (samples, i0, j0) => {
        const w = adaptiveWeights(samples);
        const i = i0 % samples.length;
        const j = j0 % samples.length;
        const a = samples[i];
        const b = samples[j];
        if (a.latencyMs === b.latencyMs && a.successRate > b.successRate) expect(w[i]).toBeGreaterThanOrEqual(w[j]);
        if (a.successRate === b.successRate && a.latencyMs < b.latencyMs) expect(w[i]).toBeGreaterThanOrEqual(w[j]);
      }),
      { numRuns },
    );
  });

  it('is uniform for a uniform pool and when nothing scores', () => {
    expect(adaptiveWeights([{ successRate: 1, latencyMs: 10 }, { successRate: 1, latencyMs: 10 }])).toEqual([1, 1]);
    expect(adaptiveWeights([{ successRate: 0, latencyMs: 10 }, { successRate: 0, latencyMs: 10 }])).toEqual([1, 1]);
    expect(adaptiveWeights([])).toEqual([]);
  });

  it('rejects bad options with a named error', () => {
    for (const [o, option] of [[{ floorFraction: 0 }, 'floorFraction'], [{ successExponent: -1 }, 'successExponent'], [{ maxLatencyBoost: 0.5 }, 'maxLatencyBoost']] as const) {
      const err = thrown(() => adaptiveWeights([{ successRate: 1, latencyMs: 1 }], o));
      expect(err).toBeInstanceOf(InvalidPolicyOptionError);
      expect(err.details?.option).toBe(option);
    }
  });
});

/**
 * The resilience target, modelled with the pure parts only: 4 actors, one fails half its messages; each
 * outcome feeds this thread's peak EWMA (a failure = penalty latency) and success rate, the weights are
 * recomputed, and weighted-adaptive chooses. One message every 5 ms of simulated time.
 */
function simulate(seed: number, messages: number, healAt = Infinity): string[] {
  const rnd = seeded(seed);
  const ids = ['a', 'b', 'c', 'flaky'];
  const latency = new PeakEwma();
  const success = new SuccessRate();
  const strategy = weightedAdaptive();
  const memory = {};
  const chosen: string[] = [];
  for (let i = 0, now = 0; i < messages; i++) {
    now += 5;
    const w = weightsFor(ids, latency, success, now);
    const c = strategy(ids.map((id) => cand(id, { weight: w.get(id)! })), { type: 'work' }, { now, random: rnd, memory })!;
    chosen.push(c.id);
    if (c.id === 'flaky' && i < healAt && rnd() < 0.5) {
      latency.fail(c.id, now);
      success.record(c.id, false, now);
    } else {
      latency.observe(c.id, 8 + 4 * rnd(), now);
      success.record(c.id, true, now);
    }
  }
  return chosen;
}

const shareOf = (chosen: string[], from: number, to: number) => chosen.slice(from, to).filter((id) => id === 'flaky').length / (to - from);

describe('adaptive routing in a simulated pool of 4', () => {
  it('a candidate failing half its messages gets < 10% of the traffic within 1,000 messages, yet keeps trial traffic', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const chosen = simulate(seed, 1000);
        expect(shareOf(chosen, 0, 1000)).toBeLessThan(0.1);
        expect(shareOf(chosen, 800, 1000)).toBeLessThan(0.1);
        expect(chosen.slice(500).filter((id) => id === 'flaky').length).toBeGreaterThan(0);
      }),
      { numRuns: Math.min(numRuns, 30) },
    );
  });

  it('earns its weight back once it stops failing', () => {
    const chosen = simulate(42, 15_000, 1000);
    expect(shareOf(chosen, 500, 1000)).toBeLessThan(0.1);
    expect(shareOf(chosen, 14_000, 15_000)).toBeGreaterThan(0.12);
  });
});
