import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Liveness } from '../../cluster/liveness.ts';
import { preferredNode } from '../../cluster/placement.ts';
import { idToKey, keyToId } from '../../cluster/keys.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 200);

describe('cluster policies (pure)', () => {
  it('liveness: a node is gone after a TTL without heartbeat, not before', () => {
    const l = new Liveness(1000);
    l.heard('a', 0);
    l.heard('b', 0);
    expect(l.expire(400)).toEqual([]);
    l.heard('a', 800);
    expect(l.expire(1200)).toEqual(['b']); // b silent 1200 ms > 1000; a heard 400 ms ago
    expect(l.alive('a')).toBe(true);
    expect(l.alive('b')).toBe(false);
    expect(l.left('a')).toBe(true);
    expect(l.nodes()).toEqual([]);
  });

  it('liveness: a gap between sweeps longer than the TTL is this process paused: nobody is declared gone', () => {
    const l = new Liveness(1000);
    l.heard('a', 0);
    expect(l.expire(100)).toEqual([]);
    expect(l.expire(5000)).toEqual([]); // paused 4.9 s: everyone gets a fresh TTL
    expect(l.expire(5500)).toEqual([]);
    expect(l.expire(6200)).toEqual(['a']); // and then silence counts again
  });

  it('preferred node: one of the live nodes, the same whatever their order, stable when another node goes', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 8 }), (id, nodes) => {
      const chosen = preferredNode(id, nodes)!;
      expect(nodes).toContain(chosen);
      expect(preferredNode(id, [...nodes].reverse())).toBe(chosen);
      const other = nodes.find((n) => n !== chosen)!;
      expect(preferredNode(id, nodes.filter((n) => n !== other))).toBe(chosen);
    }), { numRuns: runs });
    expect(preferredNode('x', [])).toBeUndefined();
  });

  it('preferred node spreads ids over the nodes', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const n = preferredNode(`acct-${i}`, ['n1', 'n2', 'n3'])!;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    for (const n of ['n1', 'n2', 'n3']) expect(counts.get(n)!).toBeGreaterThan(800);
  });

  it('actor ids as KV keys: valid key characters only, and back to the same id', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 64, unit: 'binary' }), (id) => {
      const key = idToKey(id);
      expect(key).toMatch(/^[-_=A-Za-z0-9]+$/);
      expect(keyToId(key)).toBe(id);
    }), { numRuns: runs });
    expect(idToKey('acct-42_x')).toBe('acct-42_x');
  });
});
