/**
 * Routes (messages addressed by capability) in simulation: the router picks when the message is sent, as the runtime
 * does, and the message then travels in the seeded channel from its sender to the actor picked, so it lands when
 * the seed says and keeps its place among the sender's other messages to that actor.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../router/index.ts';
import { simCheck, assertInvariants, nothingLost, type SimRun } from '../../testkit/index.ts';
import { noteTaker, routeEmitter } from './fixtures/systems.ts';
import { start } from './support/sims.ts';
import '../kernel/helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);
describe('routes in simulation', () => {
  it('a route from the test and from an actor is resolved at send and lands through the channel to the actor picked', async () => {
    const sim = await start({ seed: 9, threads: 2, maxDeliveryDelayMs: 5 });
    const a = await sim.spawn(noteTaker, { id: 'a' });
    const b = await sim.spawn(noteTaker, { id: 'b' });
    const e = await sim.spawn(routeEmitter, { id: 'e' });
    sim.tell({ capability: 'notes', strategy: 'round-robin' }, 'note', { from: 'test', n: 0 });
    sim.tell(e, 'burst', { count: 4 });
    expect(await sim.until(sim.ask({ capability: 'notes' }, 'got'))).toBeInstanceOf(Array);
    await sim.runUntilIdle();
    const got = [...(await sim.call(a, 'got')), ...(await sim.call(b, 'got'))];
    expect(got.filter((m) => m.from === 'e').map((m) => m.n).sort()).toEqual([0, 1, 2, 3]);
    expect(got.filter((m) => m.from === 'e' && (m.n === 0 || m.n === 1))).toHaveLength(2);
    expect(sim.timeline()).toMatch(/deliver\s+e>[ab]\s+note \{"from":"e","n":0\}/); // the sender's channel to the actor picked
    expect(sim.timeline()).toMatch(/deliver\s+test>[ab]\s+note \{"from":"test","n":0\}/);
    assertInvariants(nothingLost(sim));
  });

  it('per-pair FIFO holds for routed and direct messages of one sender to one actor (property)', async () => {
    const input = fc.record({ threads: fc.integer({ min: 0, max: 2 }), bursts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), delay: fc.integer({ min: 0, max: 10 }) });
    await simCheck(input, async ({ threads, bursts, delay }, run: SimRun) => {
      const sim = await run.start({ threads, maxDeliveryDelayMs: delay });
      const takers = [await sim.spawn(noteTaker, { id: 'a' }), await sim.spawn(noteTaker, { id: 'b' })];
      const e = await sim.spawn(routeEmitter, { id: 'e' });
      for (const count of bursts) sim.tell(e, 'burst', { count, direct: takers[count % 2] });
      await sim.runUntilIdle();
      let total = 0;
      for (const t of takers) {
        const ns = (await sim.call(t, 'got')).map((m) => m.n);
        total += ns.length;
        expect(ns).toEqual([...ns].sort((x, y) => x - y)); // in send order at each receiver
      }
      expect(total).toBe(bursts.reduce((s, c) => s + c + 1, 0));
    }, { numRuns: RUNS, seed: 5 });
  });
});
