import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { consistentHash } from '../../router/strategies/index.ts';
import type { Candidate, Strategy } from '../../router/types.ts';
import { cand, numRuns, state } from './helpers.ts';

const KEYS = Array.from({ length: 4000 }, (_, i) => `conversation-${i}`);
const methods = { rendezvous: consistentHash(), ring: consistentHash({ method: 'ring' }) };

function assign(s: Strategy, pool: readonly Candidate[], keys = KEYS): string[] {
  const st = state();
  return keys.map((key) => s(pool, { type: 'work', key }, st)!.id);
}

const poolArb = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.string({ minLength: 1, maxLength: 6 }))
  .map(([n, prefix]) => Array.from({ length: n }, (_, i) => cand(`${prefix}/${i}`)));

for (const [name, s] of Object.entries(methods)) {
  describe(`consistent-hash (${name})`, () => {
    it('maps a key to the same candidate whatever the order of the candidates', () => {
      fc.assert(
        fc.property(poolArb, fc.string(), (pool, key) => {
          const a = s(pool, { type: 't', key }, state())!.id;
          const b = s([...pool].reverse(), { type: 't', key }, state())!.id;
          expect(b).toBe(a);
        }),
        { numRuns },
      );
    });

    it('adding one candidate to n moves ~1/(n+1) of the keys, all of them to the newcomer', () => {
      fc.assert(
        fc.property(poolArb, (pool) => {
          const before = assign(s, pool);
          const grown = [...pool, cand('newcomer')];
          const after = assign(s, grown);
          let moved = 0;
          let elsewhere = 0;
          for (let i = 0; i < KEYS.length; i++) {
            if (after[i] !== before[i]) moved++;
            if (after[i] !== before[i] && after[i] !== 'newcomer') elsewhere++;
          }
          expect(elsewhere).toBe(0);
          const expected = 1 / grown.length;
          // binomial noise over 4000 keys plus the ring's uneven arcs (64 points per candidate)
          const tolerance = name === 'ring' ? 0.5 * expected + 0.02 : 0.25 * expected + 0.02;
          expect(Math.abs(moved / KEYS.length - expected)).toBeLessThan(tolerance);
        }),
        { numRuns: Math.min(numRuns, 30) },
      );
    });

    it('removing one candidate moves only its keys', () => {
      fc.assert(
        fc.property(poolArb.filter((p) => p.length >= 2), fc.nat(), (pool, pick) => {
          const gone = pool[pick % pool.length].id;
          const before = assign(s, pool);
          const after = assign(s, pool.filter((c) => c.id !== gone));
          let wrong = 0;
          for (let i = 0; i < KEYS.length; i++) {
            if (before[i] !== gone ? after[i] !== before[i] : after[i] === gone) wrong++;
          }
          expect(wrong).toBe(0);
        }),
        { numRuns: Math.min(numRuns, 30) },
      );
    });

    it('spreads keys evenly over a pool', () => {
      const pool = Array.from({ length: 8 }, (_, i) => cand(`agent-${i}`));
      const counts = new Map<string, number>();
      for (const id of assign(s, pool)) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(counts.size).toBe(8);
      const slack = name === 'ring' ? 0.45 : 0.2;
      for (const n of counts.values()) expect(Math.abs(n / 500 - 1)).toBeLessThan(slack);
    });
  });
}

describe('consistent-hash on a large pool (remembered id hashes, ring prefix table)', () => {
  const big = Array.from({ length: 150 }, (_, i) => cand(`pool-member-${i}`));
  const keys = KEYS.slice(0, 3000);

  it('rendezvous picks the highest hash(key, id), as computed from scratch', async () => {
    const { combine, hash32 } = await import('../../router/strategies/hash.ts');
    const got = assign(methods.rendezvous, big, keys);
    const want = keys.map((k) => big.reduce((a, b) => (combine(hash32(k), hash32(b.id)) > combine(hash32(k), hash32(a.id)) ? b : a)).id);
    expect(got).toEqual(want);
  });

  for (const [name, s] of Object.entries(methods)) {
    it(`${name}: adding one moves keys only to it, removing one moves only its keys`, () => {
      const before = assign(s, big, keys);
      const grown = assign(s, [...big, cand('newcomer')], keys);
      const moved = grown.filter((id, i) => id !== before[i]);
      expect(moved.every((id) => id === 'newcomer')).toBe(true);
      expect(moved.length).toBeGreaterThan(0);
      expect(moved.length / keys.length).toBeLessThan(4 / 151);
      const gone = big[17].id;
      const shrunk = assign(s, big.filter((c) => c.id !== gone), keys);
      expect(shrunk.filter((id, i) => before[i] !== gone && id !== before[i]).length).toBe(0);
      expect(shrunk).not.toContain(gone);
    });
  }
});

describe('consistent-hash weighted', () => {
  it('gives a candidate a share of keys in proportion to its weight', () => {
    const pool = [cand('a', { weight: 1 }), cand('b', { weight: 1 }), cand('c', { weight: 2 })];
    for (const method of ['rendezvous', 'ring'] as const) {
      const ids = assign(consistentHash({ method, weighted: true }), pool);
      const c = ids.filter((id) => id === 'c').length / ids.length;
      expect(c).toBeGreaterThan(0.42);
      expect(c).toBeLessThan(0.58);
    }
  });

  it('a weightless candidate gets no key while another has weight', () => {
    const pool = [cand('a', { weight: 0 }), cand('b', { weight: 1 })];
    expect(new Set(assign(consistentHash({ weighted: true }), pool))).toEqual(new Set(['b']));
  });
});

describe('consistent-hash ring', () => {
  it('is rebuilt for a new candidate array, not reused for a stale one', () => {
    const s = consistentHash({ method: 'ring' });
    const pool = [cand('a'), cand('b')];
    const keys = assign(s, pool);
    const only = [cand('c')];
    expect(new Set(assign(s, only))).toEqual(new Set(['c']));
    expect(assign(s, pool)).toEqual(keys);
  });
});
