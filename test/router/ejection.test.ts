import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OutlierEjection, panicFilter } from '../../router/policy/ejection.ts';
import { InvalidPolicyOptionError } from '../../router/policy/errors.ts';
import { numRuns, thrown } from './helpers.ts';

const pool = (n: number) => Array.from({ length: n }, (_, i) => `a${i}`);

function failTimes(e: OutlierEjection, id: string, n: number, now: number, size: number): boolean {
  let ejected = false;
  for (let i = 0; i < n; i++) ejected = e.onFailure(id, now, size) || ejected;
  return ejected;
}

describe('OutlierEjection', () => {
  it('ejects after 5 consecutive failures for 30 s; a success in between resets the count', () => {
    const e = new OutlierEjection();
    expect(failTimes(e, 'a0', 4, 0, 20)).toBe(false);
    e.onSuccess('a0', 0);
    expect(failTimes(e, 'a0', 4, 0, 20)).toBe(false);
    expect(e.onFailure('a0', 0, 20)).toBe(true);
    expect(e.isEjected('a0', 29_999)).toBe(true);
    expect(e.ejectedUntil('a0', 0)).toBe(30_000);
    expect(e.isEjected('a0', 30_000)).toBe(false);
  });

  it('ejects for baseMs x times ejected, capped at maxMs', () => {
    const e = new OutlierEjection({ baseMs: 100_000, maxMs: 250_000 });
    let now = 0;
    const lengths: number[] = [];
    for (let k = 0; k < 4; k++) {
      failTimes(e, 'a0', 5, now, 20);
      const until = e.ejectedUntil('a0', now)!;
      lengths.push(until - now);
      now = until; // fails again as soon as it is back
    }
    expect(lengths).toEqual([100_000, 200_000, 250_000, 250_000]);
  });

  it('wears the multiplier off by one per baseMs spent back in the pool', () => {
    const e = new OutlierEjection({ baseMs: 1000 });
    failTimes(e, 'a0', 5, 0, 20); // 1st: until 1000
    failTimes(e, 'a0', 5, 1000, 20); // 2nd: until 3000
    failTimes(e, 'a0', 5, 3000 + 1000, 20); // 1 s back: times 2 -> 1, so 2nd again: 2 s
    expect(e.ejectedUntil('a0', 4000)).toBe(6000);
    failTimes(e, 'a0', 5, 6000 + 10_000, 20); // long back: from scratch
    expect(e.ejectedUntil('a0', 16_000)).toBe(17_000);
  });

  it('ejects at most 10% of a pool at once, at least one in a pool of 2 or more, none in a pool of 1', () => {
    const e = new OutlierEjection();
    expect([1, 2, 3, 10, 19, 20, 100].map((n) => e.budget(n))).toEqual([0, 1, 1, 1, 1, 2, 10]);
    expect(failTimes(e, 'solo', 10, 0, 1)).toBe(false);
    const two = new OutlierEjection();
    expect(failTimes(two, 'a0', 5, 0, 2)).toBe(true);
    expect(failTimes(two, 'a1', 5, 0, 2)).toBe(false);
    expect(two.eligible(['a0', 'a1'], 0)).toEqual(['a1']);
  });

  it('never empties a pool, nor ejects more than its budget, whatever fails (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.tuple(fc.nat(29), fc.boolean(), fc.nat(20_000)), { maxLength: 300 }),
        (n, events) => {
          const e = new OutlierEjection();
          const ids = pool(n);
          let now = 0;
          for (const [who, ok, dt] of events) {
            now += dt;
            const id = ids[who % n];
            if (ok) e.onSuccess(id, now);
            else e.onFailure(id, now, n);
            const ejected = ids.filter((x) => e.isEjected(x, now)).length;
            expect(ejected).toBeLessThanOrEqual(e.budget(n));
            expect(e.eligible(ids, now).length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns },
    );
  });

  it('balances over everyone when fewer than 50% would be healthy (panic mode)', () => {
    expect(panicFilter([1, 2, 3, 4], [1, 2])).toEqual([1, 2]);
    expect(panicFilter([1, 2, 3, 4], [1])).toEqual([1, 2, 3, 4]);
    expect(panicFilter([1, 2], [])).toEqual([1, 2]);
    const e = new OutlierEjection({ maxEjectionPercent: 100, panicThresholdPercent: 50 });
    const ids = pool(4);
    failTimes(e, 'a0', 5, 0, 4);
    failTimes(e, 'a1', 5, 0, 4);
    expect(e.eligible(ids, 0)).toEqual(['a2', 'a3']);
    failTimes(e, 'a2', 5, 0, 4);
    expect(e.eligible(ids, 0)).toEqual(ids);
  });

  it('rejects bad options with a named error', () => {
    for (const [opts, option] of [[{ consecutiveFailures: 0 }, 'consecutiveFailures'], [{ consecutiveFailures: 1.5 }, 'consecutiveFailures'],
      [{ maxEjectionPercent: 120 }, 'maxEjectionPercent'], [{ baseMs: -1 }, 'baseMs'], [{ baseMs: 10, maxMs: 5 }, 'maxMs']] as const) {
      const err = thrown(() => new OutlierEjection(opts));
      expect(err).toBeInstanceOf(InvalidPolicyOptionError);
      expect(err.details?.option).toBe(option);
    }
  });
});
