import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidPolicyOptionError } from '../../router/policy/errors.ts';
import { PeakEwma, SuccessRate, penalty } from '../../router/policy/peak-ewma.ts';
import { numRuns, thrown } from './helpers.ts';

describe('PeakEwma', () => {
  it('starts a new candidate at the pessimistic start value; its first sample replaces it', () => {
    const e = new PeakEwma({ startMs: 300 });
    expect(e.latency('a', 0)).toBe(300);
    e.observe('a', 12, 0);
    expect(e.latency('a', 0)).toBe(12);
  });

  it('takes a sample above the estimate at once (peak), and blends one below it by elapsed time', () => {
    const e = new PeakEwma({ tauMs: 10_000 });
    e.observe('a', 10, 0);
    e.observe('a', 100, 1);
    expect(e.latency('a', 1)).toBe(100);
    e.observe('a', 10, 10_001);
    // w = exp(-1): 100 w + 10 (1 - w)
    expect(e.latency('a', 10_001)).toBeCloseTo(100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 6);
  });

  it('decays the estimate toward zero on read while no sample comes (so a shunned actor is tried again)', () => {
    const e = new PeakEwma({ tauMs: 1000 });
    e.fail('a', 0);
    expect(e.latency('a', 0)).toBe(5000);
    expect(e.latency('a', 1000)).toBeCloseTo(5000 / Math.E, 6);
    expect(e.latency('a', 20_000)).toBeLessThan(0.01);
  });

  it('never goes below the smallest sample nor above the largest after the first (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.nat(5000)), { minLength: 1, maxLength: 40 }), (samples) => {
        const e = new PeakEwma();
        let now = 0;
        for (const [ms, dt] of samples) e.observe('a', ms, (now += dt));
        const v = e.latency('a', now);
        const values = samples.map(([ms]) => ms);
        expect(v).toBeLessThanOrEqual(Math.max(...values) + 1e-9);
        expect(v).toBeGreaterThanOrEqual(Math.min(...values) - 1e-9);
        // the last sample is a floor when it was a peak
        if (samples.at(-1)![0] >= Math.max(...values)) expect(v).toBe(samples.at(-1)![0]);
      }),
      { numRuns },
    );
  });

  it('a fast failure scores as slow: penalty 5 s, or the retry-after when larger, capped at 300 s', () => {
    expect(penalty()).toBe(5000);
    expect(penalty(1000)).toBe(5000);
    expect(penalty(60_000)).toBe(60_000);
    expect(penalty(900_000)).toBe(300_000);
    expect(penalty(Number.NaN)).toBe(5000);
    expect(penalty(100, { penaltyMs: 50, maxPenaltyMs: 80 })).toBe(80);
    const e = new PeakEwma();
    e.observe('fast-fail', 1, 0);
    e.fail('fast-fail', 1, 20_000);
    e.observe('ok', 30, 1);
    expect(e.latency('fast-fail', 1)).toBe(20_000);
    expect(e.latency('fast-fail', 1)).toBeGreaterThan(e.latency('ok', 1));
  });

  it('rejects a bad tau with a named error', () => {
    for (const tauMs of [0, -1, Number.NaN, Infinity]) {
      const err = thrown(() => new PeakEwma({ tauMs }));
      expect(err).toBeInstanceOf(InvalidPolicyOptionError);
      expect(err.code).toBe('ERR_INVALID_POLICY_OPTION');
      expect(err.details?.option).toBe('tauMs');
    }
  });
});

describe('SuccessRate', () => {
  it('is 1 for a new candidate and converges to the observed ratio', () => {
    const s = new SuccessRate();
    expect(s.rate('a')).toBe(1);
    for (let i = 0; i < 400; i++) s.record('a', i % 2 === 0, i);
    expect(s.rate('a')).toBeGreaterThan(0.4);
    expect(s.rate('a')).toBeLessThan(0.6);
  });

  it('weighs a sample more the longer since the previous one', () => {
    const fast = new SuccessRate({ tauMs: 1000 });
    const slow = new SuccessRate({ tauMs: 1000 });
    fast.record('a', true, 0);
    slow.record('a', true, 0);
    fast.record('a', false, 1);
    slow.record('a', false, 5000);
    expect(slow.rate('a')).toBeLessThan(fast.rate('a'));
    expect(slow.rate('a')).toBeLessThan(0.01);
  });

  it('stays within [0, 1] (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(100_000)), { maxLength: 50 }), (outcomes) => {
        const s = new SuccessRate();
        let now = 0;
        for (const [ok, dt] of outcomes) {
          s.record('a', ok, (now += dt));
          expect(s.rate('a')).toBeGreaterThanOrEqual(0);
          expect(s.rate('a')).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns },
    );
  });
});
