/**
 * Simulated worker threads: the runtime's placement, cross-thread posts through the seeded channels, and lost
 * threads recovered by the runtime's own code (supervisors restart the children on the replacement thread, durable
 * actors resume from the store, asks waiting on the lost thread fail with WorkerLostError).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulation, simCheck, faultPlanArbitrary, assertInvariants, exactlyOnce, nothingLost, UnknownFaultTargetError, InvalidSimulationOptionError, type Fault, type SimRun } from '../../testkit/index.ts';
import type { ActorDefinition } from '../../actors/define.ts';
import { account, counter, emitter, memoryLedger, recorder, relay } from './fixtures/systems.ts';
import { findAndReplay } from './support/find.ts';
import { start, tree } from './support/sims.ts';
import '../kernel/helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);
const supervised = (children: unknown[], extra: Record<string, unknown> = {}) => tree(children, { intensity: { maxRestarts: 5, withinMs: 10_000 }, ...extra });

describe('simulated threads', () => {
  it('places actors on threads 1..N by the runtime rules; messages cross them through the seeded channels', async () => {
    const sim = await start({ seed: 3, threads: 2 });
    const c = await sim.spawn(counter, { id: 'c' });
    const r = await sim.spawn(relay, { id: 'r', args: { to: c } });
    const pinned = await sim.spawn(counter, { id: 'p', pin: 2 });
    const near = await sim.spawn(counter, { id: 'n', near: c });
    expect([c.node, r.node].sort()).toEqual([1, 2]); // least loaded first
    expect(pinned.node).toBe(2);
    expect(near.node).toBe(c.node);
    for (const n of [1, 2, 3]) sim.tell(r, 'pass', n);
    await sim.runUntilIdle();
    expect(await sim.call(c, 'get')).toBe(6);
    expect(await sim.call(r, 'ask')).toBe(6);
    expect(sim.timeline()).toMatch(new RegExp(`deliver\\s+thread ${r.node}>thread ${c.node}\\s+c 'add'`));
    expect((await sim.until(sim.runtime.stats())).nodes.map((n) => n.node)).toEqual([0, 1, 2]);
  });

  it('the same seed replays the same run across threads; another seed interleaves differently', async () => {
    const run = async (seed: number) => {
      const sim = await start({ seed, threads: 3, maxDeliveryDelayMs: 4 });
      const rec = await sim.spawn(recorder, { id: 'rec' });
      const emitters = [await sim.spawn(emitter, { id: 'e1' }), await sim.spawn(emitter, { id: 'e2' })];
      for (const e of emitters) sim.tell(e, 'burst', { to: rec, count: 4 });
      await sim.runUntilIdle();
      return { hash: sim.hash(), got: JSON.stringify(await sim.call(rec, 'got')) };
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    const others = await Promise.all([12, 13, 14, 15].map(run));
    expect(others.some((o) => o.got !== a.got)).toBe(true);
  });

  it('per-pair FIFO holds across simulated threads (property over seeds, threads, bursts and delays)', async () => {
    const input = fc.record({
      threads: fc.integer({ min: 1, max: 3 }),
      bursts: fc.array(fc.record({ from: fc.integer({ min: 0, max: 2 }), count: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 6 }),
      direct: fc.integer({ min: 0, max: 5 }),
      delay: fc.integer({ min: 0, max: 20 }),
    });
    await simCheck(input, async ({ threads, bursts, direct, delay }, run: SimRun) => {
      const sim = await run.start({ threads, maxDeliveryDelayMs: delay });
      const rec = await sim.spawn(recorder, { id: 'rec' });
      const emitters = [];
      for (let i = 0; i < 3; i++) emitters.push(await sim.spawn(emitter, { id: `e${i}` }));
      for (const b of bursts) sim.tell(emitters[b.from], 'burst', { to: rec, count: b.count });
      for (let n = 0; n < direct; n++) sim.tell(rec, 'note', { from: 'test', n });
      await sim.runUntilIdle();
      const got = await sim.call(rec, 'got');
      const last = new Map<string, number>();
      for (const m of got) {
        if ((last.get(m.from) ?? -1) >= m.n) throw new Error(`${m.from}'s ${m.n} handled after its ${last.get(m.from)}`);
        last.set(m.from, m.n);
      }
      expect(got).toHaveLength(bursts.reduce((s, b) => s + b.count, 0) + direct);
    }, { numRuns: RUNS, seed: 7 });
  });

  it('bad input: a lose-thread fault naming a thread the simulation lacks; a thread loss of an actor on the main thread', async () => {
    await expect(Simulation.start({ seed: 1, threads: 2, faults: [{ kind: 'lose-thread', thread: 3, atMs: 5 }] })).rejects.toThrow(UnknownFaultTargetError);
    await expect(Simulation.start({ seed: 1, threads: 65 })).rejects.toThrow(InvalidSimulationOptionError);
    await expect(Simulation.start({ seed: 1, faults: [{ kind: 'lose-thread' } as never] })).rejects.toThrow(InvalidSimulationOptionError);
    const sim = await start({ seed: 1, faults: [{ kind: 'lose-thread', actor: 'c', onMessage: 1 }] });
    const c = await sim.spawn(counter, { id: 'c' });
    expect(() => sim.loseThread(1)).toThrow(UnknownFaultTargetError);
    await expect(sim.call(c, 'get')).rejects.toThrow(/runs on the main thread/);
  });
});

describe('lost threads', () => {
  it('asks waiting on a lost thread fail with WorkerLostError; its supervised actors restart on the replacement', async () => {
    const sim = await start({ seed: 4, threads: 2, faults: [{ kind: 'lose-thread', actor: 'a', onMessage: 2 }] });
    const sup = await sim.supervise(supervised([{ id: 'a', actor: counter }, { id: 'b', actor: counter }]));
    const [a, b] = [sup.ref<typeof counter>('a')!, sup.ref<typeof counter>('b')!];
    sim.tell(a, 'add', 5);
    sim.tell(b, 'add', 7);
    const lost = sim.ask(a, 'get').then(() => 'answered', (e: { code: string }) => e.code);
    await sim.runUntilIdle();
    expect(await lost).toBe('ERR_WORKER_LOST');
    expect(sim.threadsLost).toBe(1);
    expect(sim.crashes).toMatchObject([{ actorId: 'a', messageType: '$exit', decision: 'restart' }]);
    const again = sup.ref<typeof counter>('a')!;
    expect(again.node).toBe(a.node); // restarted in place, on the replacement thread: refs stay valid
    expect(await sim.call(a, 'get')).toBe(0); // not persistent: a restart starts from init
    expect(await sim.call(b, 'get')).toBe(7); // the other thread's actor is untouched
    expect(sim.timeline()).toMatch(new RegExp(`thread ${a.node}\\s+starts with 1 stand-in`));
    assertInvariants(nothingLost(sim));
  });

  it('a durable actor on a lost thread resumes from the store: acknowledged deposits applied exactly once', async () => {
    const sim = await start({ seed: 4, threads: 2, durable: true });
    const sup = await sim.supervise(supervised([{ id: 'acct', actor: account }]));
    const acct = sup.ref<typeof account>('acct')!;
    await sim.until(sim.send(acct, 'deposit', { id: 'd1', amount: 10 }));
    await sim.until(sim.send(acct, 'deposit', { id: 'd2', amount: 5 }));
    sim.loseThread(acct.node);
    await sim.runUntilIdle();
    expect(await sim.call(acct, 'balance')).toBe(15);
    expect((await sim.state<{ applied: string[] }>('acct'))!.applied).toEqual(['d1', 'd2']);
  });

  it('a durable message that keeps killing its thread is set aside as poison after poisonAfter replays', async () => {
    const kills: Fault[] = [1, 2, 3, 4].map((k) => ({ kind: 'lose-thread', actor: 'acct', onMessage: k }));
    const sim = await start({ seed: 6, threads: 2, durable: true, faults: kills });
    const sup = await sim.supervise(supervised([{ id: 'acct', actor: account }], { intensity: { maxRestarts: 20, withinMs: 10_000 } }));
    const acct = sup.ref<typeof account>('acct')!;
    await sim.until(sim.send(acct, 'deposit', { id: 'deadly', amount: 1 }));
    await sim.runUntilIdle();
    const poison = await sim.until(sim.runtime.poisonMessages('acct'));
    expect(poison.map((p) => (p.payload as { id: string }).id)).toEqual(['deadly']);
    expect(sim.threadsLost).toBe(4); // its first handling and 3 replays (poisonAfter 3); the next start sets it aside
    await sim.until(sim.send(acct, 'deposit', { id: 'fine', amount: 2 }));
    expect(await sim.call(acct, 'balance')).toBe(2);
  });

  it('a thread loss, then a crash of the whole system: every thread starts again, acknowledged deposits applied once', async () => {
    const acked: string[] = [];
    const sim = await start({
      seed: 3, threads: 2, durable: true, maxDeliveryDelayMs: 2,
      faults: [{ kind: 'lose-thread', thread: 1, atMs: 12 }, { kind: 'crash-system', atMs: 30 }],
      setup: async (s) => void (await s.supervise(supervised([{ id: 'acct', actor: account }, { id: 'c', actor: counter }]))),
    });
    for (let i = 0; i < 6; i++) {
      sim.send(sim.ref<typeof account>('acct'), 'deposit', { id: `d${i}`, amount: 1 }).then(() => acked.push(`d${i}`), () => undefined);
      await sim.advance(10);
    }
    await sim.runUntilIdle();
    expect([sim.threadsLost, sim.systemCrashes]).toEqual([1, 1]);
    expect(acked.length).toBeGreaterThanOrEqual(3);
    assertInvariants(exactlyOnce(acked, (await sim.state<{ applied: string[] }>('acct'))!.applied));
    sim.loseThread(sim.ref('acct').node);
    await sim.stop(); // right after a loss, while the thread is being replaced
    expect(sim.runtime.lifecycle).toBe('stopped');
  });

  it('an unsupervised actor lost with its thread is gone: its ref answers ActorNotFound on the replacement', async () => {
    const sim = await start({ seed: 2, threads: 1 });
    const c = await sim.spawn(counter, { id: 'c' });
    sim.loseThread(1);
    await sim.runUntilIdle();
    await expect(sim.call(c, 'get')).rejects.toMatchObject({ code: 'ERR_ACTOR_NOT_FOUND' });
    expect(() => sim.ref('c')).toThrow(UnknownFaultTargetError);
  });

  it('a thread lost while a supervision tree starts its children there: supervise() still resolves, every child runs (property)', async () => {
    const input = fc.record({ thread: fc.integer({ min: 1, max: 2 }), atMs: fc.integer({ min: 0, max: 12 }) });
    await simCheck(input, async ({ thread, atMs }, run) => {
      const sim = await run.start({ threads: 2, maxDeliveryDelayMs: 2, faults: [{ kind: 'lose-thread', thread, atMs }] });
      await sim.supervise(supervised([{ id: 'a', actor: counter, pin: 1 }, { id: 'b', actor: counter, pin: 2 }, { id: 'c', actor: counter }]));
      await sim.runUntilIdle();
      for (const id of ['a', 'b', 'c']) expect(typeof (await sim.call(sim.ref<typeof counter>(id), 'get'))).toBe('number');
      assertInvariants(nothingLost(sim));
    }, { numRuns: Math.ceil(RUNS / 2), seed: 5 });
  });

  // The seeded bug: deposits acknowledged by a ledger that keeps them in memory only. A lost thread loses them.
  const deposits = (ledger: ActorDefinition) => async (input: { plan: Fault[]; count: number }, run: SimRun) => {
    // Timed losses fall once the system is up (20 ms in), so the plan's losses hit the running ledger.
    const faults = input.plan.map((f) => ('atMs' in f ? { ...f, atMs: f.atMs + 20 } : f));
    const sim = await run.start({ threads: 2, faults, durable: ledger === account, maxDeliveryDelayMs: 3 });
    const sup = await sim.supervise(supervised([{ id: 'ledger', actor: ledger }, { id: 'other', actor: counter }]));
    const acked: string[] = [];
    for (let i = 0; i < input.count; i++) {
      sim.send(sup.ref<typeof account>('ledger')!, 'deposit', { id: `d${i}`, amount: 1 }).then(() => acked.push(`d${i}`), () => undefined);
      await sim.advance(10);
    }
    await sim.runUntilIdle();
    assertInvariants(exactlyOnce(acked, (await sim.state<{ applied: string[] }>('ledger'))!.applied), nothingLost(sim));
  };
  const depositInput = fc.record({
    plan: faultPlanArbitrary({ actors: ['ledger', 'other'], kinds: ['lose-thread'], threads: 2, maxMessage: 6, maxAtMs: 60, maxFaults: 2 }),
    count: fc.integer({ min: 1, max: 5 }),
  });

  it('a lost-thread bug is found, shrunk and replayed; the durable ledger passes the same property', async () => {
    const err = await findAndReplay(depositInput, deposits(memoryLedger));
    expect(err.details!.minimal).toMatch(/"kind":"lose-thread"/);
    expect(err.message).toMatch(/acknowledged message 'd\d' applied 0 times/);
    await simCheck(depositInput, deposits(account), { numRuns: Math.ceil(RUNS / 4), seed: 11 });
  });
});
