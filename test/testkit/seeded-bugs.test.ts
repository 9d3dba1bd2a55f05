/**
 * Proof that the testkit finds bugs: four small systems with deliberately seeded bugs, each found by a simulation
 * property, shrunk to a minimal case, and replayed exactly from the line the failure printed (same minimal case,
 * same trace hash); each fixed twin passes the same property.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  simCheck, faultPlanArbitrary, assertInvariants, exactlyOnce, intensityRespected, stateMatches,
  type SimRun, type Fault,
} from '../../testkit/index.ts';
import type { ActorDefinition } from '../../actors/define.ts';
import { tally, idempotentTally, retryingClient, batcher, eagerBatcher, sink, register, racyIncrementer, atomicIncrementer, service } from './fixtures/buggy.ts';
import { findAndReplay } from './support/find.ts';
import '../kernel/helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 150);

describe('seeded bugs are found, shrunk and replayed', () => {
  // 1. A client retries on timeout; the receiver applies every copy. Delays past the ask timeout make duplicates.
  const redelivery = (tallyDef: ActorDefinition) => async (input: { plan: Fault[]; jobs: number }, run: SimRun) => {
    const sim = await run.start({ faults: input.plan });
    const t = await sim.spawn(tallyDef, { id: 'tally' });
    const client = await sim.spawn(retryingClient, { id: 'client', args: { tally: t } });
    const acked: string[] = [];
    for (let i = 0; i < input.jobs; i++) sim.ask(client, 'submit', { id: `j${i}`, n: 1 }, { timeoutMs: 10_000 }).then((id) => acked.push(id), () => undefined);
    await sim.runUntilIdle();
    assertInvariants(exactlyOnce(acked, (await sim.state<{ applied: string[] }>('tally'))!.applied));
  };
  const redeliveryInput = fc.record({ plan: faultPlanArbitrary({ actors: ['tally'], kinds: ['delay'], maxMs: 300, maxFaults: 2 }), jobs: fc.integer({ min: 1, max: 4 }) });

  it('a non-idempotent handler under redelivery', async () => {
    const err = await findAndReplay(redeliveryInput, redelivery(tally));
    expect(err.details!.minimal).toMatch(/"kind":"delay","to":"tally","ms":(9\d|1\d\d)/); // shrunk to a delay near the 100 ms timeout
    expect(err.message).toMatch(/applied 2 times/);
    await simCheck(redeliveryInput, redelivery(idempotentTally), { numRuns: Math.ceil(RUNS / 3) });
  });

  // 2. Acknowledged jobs kept only in memory until a flush: a crash (the supervisor restarts it) loses them.
  const lossy = (batcherDef: ActorDefinition) => async (input: { plan: Fault[]; jobs: number }, run: SimRun) => {
    const sim = await run.start({ faults: input.plan });
    const s = await sim.spawn(sink, { id: 'sink' });
    const tree = await sim.supervise({ id: 'sup', intensity: { maxRestarts: 100, withinMs: 1000 }, children: [{ id: 'batcher', actor: batcherDef, args: { sink: s } }] });
    const b = tree.ref<typeof batcher>('batcher')!;
    const acked: string[] = [];
    for (let i = 0; i < input.jobs; i++) {
      sim.ask(b, 'submit', `job${i}`).then(() => acked.push(`job${i}`), () => undefined);
      if (i % 2 === 1) sim.tell(b, 'flush');
    }
    sim.tell(b, 'flush');
    await sim.runUntilIdle();
    assertInvariants(exactlyOnce(acked, (await sim.state<{ stored: string[] }>('sink'))!.stored));
  };
  const lossyInput = fc.record({ plan: faultPlanArbitrary({ actors: ['batcher'], kinds: ['crash'], maxMessage: 8, maxFaults: 2 }), jobs: fc.integer({ min: 1, max: 5 }) });

  it('an actor that loses a message on restart', async () => {
    const err = await findAndReplay(lossyInput, lossy(batcher));
    expect(err.details!.minimal).toMatch(/^\{"plan":\[\{"kind":"crash","actor":"batcher","onMessage":2\}\],"jobs":1\}$/);
    expect(err.message).toMatch(/job0.*applied 0 times/);
    await simCheck(lossyInput, lossy(eagerBatcher), { numRuns: Math.ceil(RUNS / 3) });
  });

  // 3. Two senders read-modify-write one register through asks: the seeded scheduler finds the interleaving.
  const race = (incrementer: ActorDefinition) => async (input: { bumps: [number, number] }, run: SimRun) => {
    const sim = await run.start({ maxDeliveryDelayMs: 3 });
    const r = await sim.spawn(register, { id: 'register' });
    const a = await sim.spawn(incrementer, { id: 'a', args: { register: r } });
    const b = await sim.spawn(incrementer, { id: 'b', args: { register: r } });
    for (let i = 0; i < input.bumps[0]; i++) sim.tell(a, 'bump');
    for (let i = 0; i < input.bumps[1]; i++) sim.tell(b, 'bump');
    await sim.runUntilIdle();
    assertInvariants(stateMatches('register', await sim.state('register'), { value: input.bumps[0] + input.bumps[1] }));
  };
  const raceInput = fc.record({ bumps: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })) });

  it('a race between two senders', async () => {
    const err = await findAndReplay(raceInput, race(racyIncrementer));
    expect(err.details!.minimal).toBe('{"bumps":[1,1]}');
    expect(err.message).toMatch(/register: state \{"value":1\} differs from the model's \{"value":2\}/);
    await simCheck(raceInput, race(atomicIncrementer), { numRuns: Math.ceil(RUNS / 3) });
  });

  // 4. A supervisor config without backoff and with a huge intensity restart-loops a child whose start keeps failing.
  const looping = (intensity: { maxRestarts: number; withinMs: number }) => async (input: { failures: number }, run: SimRun) => {
    const sim = await run.start({ faults: [{ kind: 'crash', actor: 'svc', onMessage: 1 }, { kind: 'init-throw', actor: 'svc', start: 2, times: input.failures }] });
    const tree = await sim.supervise({ id: 'sup', intensity, backoff: { minMs: 0, maxMs: 0 }, children: [{ id: 'svc', actor: service }] });
    sim.tell(tree.ref<typeof service>('svc')!, 'status');
    await sim.runUntilIdle();
    // The operator's rule: no child restarts more than 10 times within a second.
    assertInvariants(intensityRespected(sim.crashes, { supervisor: 'sup', maxRestarts: 10, withinMs: 1000 }));
  };
  const loopInput = fc.record({ failures: fc.integer({ min: 1, max: 60 }) });

  it('a supervisor config that restart-loops', async () => {
    const err = await findAndReplay(loopInput, looping({ maxRestarts: 1000, withinMs: 1000 }));
    expect(err.details!.minimal).toBe('{"failures":10}'); // 1 crash + 10 failed restarts = 11 restarts
    expect(err.message).toMatch(/sup: 11 restarts within 1000 ms/);
    await simCheck(loopInput, looping({ maxRestarts: 5, withinMs: 1000 }), { numRuns: Math.ceil(RUNS / 3) });
  });
});
