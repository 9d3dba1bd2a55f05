import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  UnknownStrategyError, consistentHash, costOf, leastLoaded, loadOf, p2c, preferBest, random, resolveStrategy,
  roundRobin, strategies, weightedAdaptive,
} from '../../router/strategies/index.ts';
import { errorToData, reviveError } from '../../runtime/errors.ts';
import type { Candidate, Strategy } from '../../router/types.ts';
import { cand, candidatesArb, numRuns, seeded, state, thrown } from './helpers.ts';

const msg = { type: 'work' };

describe('every built-in strategy', () => {
  it('returns one of its candidates, among those with the best preferred score', () => {
    fc.assert(
      fc.property(candidatesArb(), fc.constantFrom(...Object.keys(strategies)), fc.option(fc.string()), fc.integer(), (cs, name, key, seed) => {
        const s = strategies[name as keyof typeof strategies];
        const st = state(seeded(seed));
        for (let i = 0; i < 5; i++) {
          const choice = s(cs, key === null ? msg : { type: 'work', key }, st);
          expect(cs).toContain(choice);
          expect(choice!.preferred).toBe(Math.max(...cs.map((c) => c.preferred)));
        }
      }),
      { numRuns },
    );
  });
});

describe('preferBest', () => {
  it('keeps only the top preferred score, and hands back the same array when all score alike', () => {
    const a = [cand('a', { preferred: 1 }), cand('b', { preferred: 2 }), cand('c', { preferred: 2 })];
    expect(preferBest(a).map((c) => c.id)).toEqual(['b', 'c']);
    const same = [cand('a'), cand('b')];
    expect(preferBest(same)).toBe(same);
  });

  it('remembers the narrowed set of a large array (same answer, same object)', () => {
    const big = Array.from({ length: 100 }, (_, i) => cand(`a${i}`, { preferred: i % 10 === 0 ? 1 : 0 }));
    const first = preferBest(big);
    expect(first.length).toBe(10);
    expect(preferBest(big)).toBe(first);
  });
});

describe('least-loaded', () => {
  it('picks the minimum of queued + inFlight', () => {
    fc.assert(
      fc.property(candidatesArb(), fc.integer(), (cs, seed) => {
        const pool = cs.map((c) => ({ ...c, preferred: 0 }));
        const choice = leastLoaded(pool, msg, state(seeded(seed)))!;
        expect(loadOf(choice)).toBe(Math.min(...pool.map(loadOf)));
      }),
      { numRuns },
    );
  });

  it('an idle candidate first, and ties are broken at random, not always the first', () => {
    const pool = [cand('busy', { queued: 3 }), cand('i1'), cand('i2'), cand('i3'), cand('inflight', { inFlight: 1 })];
    const seen = new Map<string, number>();
    const st = state(seeded(7));
    for (let i = 0; i < 3000; i++) {
      const id = leastLoaded(pool, msg, st)!.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['i1', 'i2', 'i3']);
    for (const n of seen.values()) expect(n).toBeGreaterThan(800);
  });
});

describe('round-robin', () => {
  it('visits each of a fixed set exactly k times in k*n choices', () => {
    fc.assert(
      fc.property(candidatesArb(), fc.integer({ min: 1, max: 4 }), (cs, k) => {
        const pool = cs.map((c) => ({ ...c, preferred: 0 }));
        const st = state();
        const counts = new Map<string, number>();
        for (let i = 0; i < k * pool.length; i++) {
          const id = roundRobin(pool, msg, st)!.id;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        expect(counts.size).toBe(pool.length);
        for (const n of counts.values()) expect(n).toBe(k);
      }),
      { numRuns },
    );
  });

  it('survives a changing candidate set (shrinking, growing) and always returns a member', () => {
    fc.assert(
      fc.property(fc.array(candidatesArb(1, 8), { minLength: 1, maxLength: 20 }), (sets) => {
        const st = state();
        for (const set of sets) {
          const pool = set.map((c) => ({ ...c, preferred: 0 }));
          expect(pool).toContain(roundRobin(pool, msg, st));
        }
      }),
      { numRuns },
    );
  });
});

describe('random', () => {
  it('spreads choices over every candidate', () => {
    const pool = ['a', 'b', 'c', 'd'].map((id) => cand(id));
    const st = state(seeded(3));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const id = random(pool, msg, st)!.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    for (const id of ['a', 'b', 'c', 'd']) expect(counts[id]).toBeGreaterThan(850);
  });

  it('stays in range when the random source returns its extremes', () => {
    const pool = [cand('a'), cand('b')];
    expect(random(pool, msg, state(() => 0))!.id).toBe('a');
    expect(random(pool, msg, state(() => 0.9999999999999999))!.id).toBe('b');
  });
});

describe('p2c', () => {
  const choose = p2c();

  it('with at most 3 candidates scans them all: always the cheapest', () => {
    fc.assert(
      fc.property(candidatesArb(1, 3), fc.integer(), (cs, seed) => {
        const pool = cs.map((c) => ({ ...c, preferred: 0 }));
        const choice = choose(pool, msg, state(seeded(seed)))!;
        expect(costOf(choice)).toBe(Math.min(...pool.map(costOf)));
      }),
      { numRuns },
    );
  });

  it('with more, never picks the most expensive of distinct costs, and favours the cheap ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 30 }), fc.integer(), (n, seed) => {
        const pool = Array.from({ length: n }, (_, i) => cand(`a${i}`, { latencyMs: 10 + i }));
        const st = state(seeded(seed));
        for (let i = 0; i < 50; i++) expect(choose(pool, msg, st)!.id).not.toBe(`a${n - 1}`);
      }),
      { numRuns },
    );
  });

  it('counts in-flight work in the cost: cost = latency x (inFlight + 1)', () => {
    expect(costOf(cand('a', { latencyMs: 10, inFlight: 4 }))).toBe(50);
    const pool = [cand('slow', { latencyMs: 30 }), cand('busy', { latencyMs: 10, inFlight: 4 })];
    expect(choose(pool, msg, state())!.id).toBe('slow');
  });

  it('draws two distinct candidates (so two of n never compare one with itself)', () => {
    const draws = [0.5, 0.6];
    const pool = Array.from({ length: 6 }, (_, i) => cand(`a${i}`, { latencyMs: i === 3 ? 100 : 1 }));
    // first draw: index 3 of 6; second: index 3 of the other 5, which is index 4: a4 (cheap) against a3 (dear)
    expect(choose(pool, msg, state(() => draws.shift() ?? 0))!.id).toBe('a4');
  });
});

describe('weighted-adaptive', () => {
  it('shares traffic in proportion to weight when unloaded', () => {
    const pool = [cand('a', { weight: 1 }), cand('b', { weight: 3 })];
    const st = state(seeded(11));
    let b = 0;
    for (let i = 0; i < 8000; i++) if (weightedAdaptive()(pool, msg, st)!.id === 'b') b++;
    expect(b / 8000).toBeGreaterThan(0.72);
    expect(b / 8000).toBeLessThan(0.78);
  });

  it('penalises load, and falls back to uniform when no weight is usable', () => {
    const s = weightedAdaptive();
    const pool = [cand('a', { queued: 9 }), cand('b')];
    const st = state(seeded(5));
    let b = 0;
    for (let i = 0; i < 4000; i++) if (s(pool, msg, st)!.id === 'b') b++;
    expect(b / 4000).toBeGreaterThan(0.85);
    const zero = [cand('a', { weight: 0 }), cand('b', { weight: Number.NaN })];
    const ids = new Set(Array.from({ length: 200 }, () => s(zero, msg, st)!.id));
    expect(ids).toEqual(new Set(['a', 'b']));
  });
});

describe('resolveStrategy', () => {
  it('resolves every built-in name and passes a function through', () => {
    for (const name of ['least-loaded', 'round-robin', 'random', 'p2c', 'consistent-hash', 'weighted-adaptive']) {
      expect(typeof resolveStrategy(name)).toBe('function');
    }
    const mine: Strategy = (cs) => cs[0];
    expect(resolveStrategy(mine)).toBe(mine);
  });

  it('throws UnknownStrategyError (ERR_UNKNOWN_STRATEGY) for an unknown name, also across threads', () => {
    for (const bad of ['fastest', 'toString', '__proto__', 42 as unknown as string]) {
      const err = thrown(() => resolveStrategy(bad));
      expect(err).toBeInstanceOf(UnknownStrategyError);
      expect(err.code).toBe('ERR_UNKNOWN_STRATEGY');
    }
    const revived = reviveError(errorToData(thrown(() => resolveStrategy('fastest'))));
    expect(revived).toBeInstanceOf(UnknownStrategyError);
    expect(revived.message).toContain('fastest');
  });
});

describe('consistent-hash without a key', () => {
  it('falls back to least-loaded', () => {
    const pool: Candidate[] = [cand('a', { queued: 2 }), cand('b'), cand('c', { inFlight: 1 })];
    for (const method of ['rendezvous', 'ring'] as const) expect(consistentHash({ method })(pool, msg, state())!.id).toBe('b');
  });
});
