import { describe, expect, it } from 'vitest';
import { assertInvariants, exactlyOnce, intensityRespected, nothingLost, stateMatches, InvariantViolationError, Simulation } from '../../testkit/index.ts';
import type { CrashReport } from '../../supervisors/index.ts';
import { counter } from './fixtures/systems.ts';
import '../kernel/helpers.ts';

describe('invariant helpers', () => {
  it('exactlyOnce: missing and duplicated applications', () => {
    expect(exactlyOnce(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(exactlyOnce(['a', 'b'], ['a'])).toEqual(["acknowledged message 'b' applied 0 times (expected exactly once)"]);
    expect(exactlyOnce(['a'], ['a', 'a', 'c', 'c'])).toEqual(["acknowledged message 'a' applied 2 times (expected exactly once)", "message 'a' applied 2 times", "message 'c' applied 2 times"]);
  });

  it('nothingLost: every delivered message handled or dead-lettered, in a real simulation and a doctored one', async () => {
    const sim = await Simulation.start({ seed: 1 });
    const c = await sim.spawn(counter, { id: 'c' });
    sim.tell(c, 'add', 1);
    sim.tell(c, 'nope' as never);
    await sim.runUntilIdle();
    expect(nothingLost(sim)).toEqual([]); // 'nope' is a dead letter (unknown-message-type)
    const doctored = Object.create(sim, { handled: { value: [] } }) as Simulation; // as if the 'add' had vanished
    expect(nothingLost(doctored)).toEqual(["c 'add': 1 delivered, 0 handled or dead-lettered: 1 lost without a reason"]);
    await sim.stop();
  });

  it('intensityRespected: a sliding window inclusive at its old end', () => {
    const r = (at: number, decision = 'restart') => ({ actorId: 'x', supervisor: 's', decision, at }) as unknown as CrashReport;
    const limits = { supervisor: 's', maxRestarts: 2, withinMs: 100 };
    expect(intensityRespected([r(0), r(50), r(151), r(200)], limits)).toEqual([]);
    expect(intensityRespected([r(0), r(50), r(100)], limits)).toEqual(['s: 3 restarts within 100 ms ending at 100 (maxRestarts 2)']);
    expect(intensityRespected([r(0), r(1, 'open-circuit'), r(2)], limits)).toEqual([]);
  });

  it('stateMatches and assertInvariants', () => {
    expect(stateMatches('a', { n: 1 }, { n: 1 })).toEqual([]);
    expect(stateMatches('a', { n: 1 }, { n: 2 })).toEqual(['a: state {"n":1} differs from the model\'s {"n":2}']);
    expect(() => assertInvariants([], stateMatches('a', 1, 2))).toThrow(InvariantViolationError);
    expect(() => assertInvariants([], [])).not.toThrow();
  });
});

describe('message sequences from messagesArbitrary', () => {
  it('two counters fed a random sequence end in the model\'s state, nothing lost, under random delays', async () => {
    const { simCheck, messagesArbitrary } = await import('../../testkit/index.ts');
    const fc = (await import('fast-check')).default;
    const message = fc.oneof(
      fc.record({ type: fc.constant('add'), payload: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ type: fc.constant('get'), payload: fc.constant(undefined) }),
    );
    await simCheck(messagesArbitrary(['x', 'y'], message, { maxLength: 30 }), async (messages, run) => {
      const sim = await run.start({ maxDeliveryDelayMs: 10 });
      for (const id of ['x', 'y']) await sim.spawn(counter, { id });
      const model: Record<string, number> = { x: 0, y: 0 };
      for (const m of messages) {
        if (m.type === 'add') model[m.to] += m.payload as number;
        sim.tell(sim.ref(m.to), m.type as 'add', m.payload as number);
      }
      await sim.runUntilIdle();
      assertInvariants(
        nothingLost(sim),
        stateMatches('x', (await sim.state<{ count: number }>('x'))!.count, model.x),
        stateMatches('y', (await sim.state<{ count: number }>('y'))!.count, model.y),
      );
    }, { numRuns: Number(process.env.TROUPE_FC_RUNS ?? 30) });
  });
});
