import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseNode, type NodeLoad } from '../../cluster/placement.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 200);

const nodesArb = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.record({ alive: fc.boolean(), actors: fc.nat(50) }), { minKeys: 1 });

describe('placement across nodes (pure)', () => {
  it('a named node: it when alive, down when it left, unknown when it never joined; this node always', () => {
    const nodes = new Map<string, NodeLoad>([['a', { alive: true, actors: 3 }], ['b', { alive: true, actors: 0 }], ['c', { alive: false, actors: 1 }]]);
    expect(chooseNode({ node: 'b', placement: 'local' }, 'a', nodes)).toEqual({ node: 'b' });
    expect(chooseNode({ node: 'c', placement: 'least-loaded' }, 'a', nodes)).toEqual({ down: 'c' });
    expect(chooseNode({ node: 'zz', placement: 'local' }, 'a', nodes)).toEqual({ unknown: 'zz' });
    expect(chooseNode({ node: 'a', placement: 'least-loaded' }, 'a', new Map())).toEqual({ node: 'a' });
  });

  it("'local' stays here; 'least-loaded' takes the live node with the fewest actors, ties to this node, then the lowest id", () => {
    const nodes = new Map<string, NodeLoad>([['a', { alive: true, actors: 3 }], ['b', { alive: true, actors: 1 }], ['c', { alive: true, actors: 1 }], ['d', { alive: false, actors: 0 }]]);
    expect(chooseNode({ placement: 'local' }, 'a', nodes)).toEqual({ node: 'a' });
    expect(chooseNode({ placement: 'least-loaded' }, 'a', nodes)).toEqual({ node: 'b' }); // d has none but is down
    expect(chooseNode({ placement: 'least-loaded' }, 'c', nodes)).toEqual({ node: 'c' }); // a tie with b: stay
    nodes.set('a', { alive: true, actors: 1 });
    expect(chooseNode({ placement: 'least-loaded' }, 'a', nodes)).toEqual({ node: 'a' });
  });

  it('least-loaded: the choice is alive (or this node) and no live node hosts fewer actors', () => {
    fc.assert(fc.property(nodesArb, fc.constantFrom('a', 'b', 'c', 'd', 'e'), (entries, self) => {
      const nodes = new Map(Object.entries(entries));
      nodes.set(self, { alive: true, actors: nodes.get(self)?.actors ?? 0 });
      const choice = chooseNode({ placement: 'least-loaded' }, self, nodes);
      expect('node' in choice).toBe(true);
      const chosen = nodes.get((choice as { node: string }).node)!;
      expect(chosen.alive).toBe(true);
      for (const load of nodes.values()) if (load.alive) expect(chosen.actors).toBeLessThanOrEqual(load.actors);
      // Placing one more actor at a time on the choice spreads them: loads never differ by more than one from the
      // lightest once enough actors are placed.
      const live = [...nodes].filter(([, l]) => l.alive);
      const max = Math.max(...live.map(([, l]) => l.actors));
      for (let i = 0; i < max * live.length; i++) {
        const c = chooseNode({ placement: 'least-loaded' }, self, nodes) as { node: string };
        nodes.get(c.node)!.actors++;
      }
      const after = live.map(([n]) => nodes.get(n)!.actors);
      expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
    }), { numRuns: runs });
  });
});
