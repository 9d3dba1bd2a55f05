import { describe, expect, it } from 'vitest';
import { Simulation, StepBudgetExceededError, TimeBudgetExceededError, UnknownFaultTargetError, NondeterminismError, InvalidSimulationOptionError } from '../../testkit/index.ts';
import { counter, relay, fragile, sleepy, looper } from './fixtures/systems.ts';
import { Scheduler } from '../../runtime/scheduler.ts';
import '../kernel/helpers.ts';

async function relaySystem(seed: number, delay = 5) {
  const sim = await Simulation.start({ seed, maxDeliveryDelayMs: delay });
  const c = await sim.spawn(counter, { id: 'c' });
  const relays = [];
  for (let i = 0; i < 3; i++) relays.push(await sim.spawn(relay, { id: `r${i}`, args: { to: c } }));
  for (let k = 0; k < 20; k++) {
    sim.tell(relays[k % 3], 'pass', k);
    if (k % 4 === 0) sim.tell(c, 'add', 100);
  }
  await sim.runUntilIdle();
  return sim;
}

describe('the scheduler hook (runtime/scheduler.ts SchedulingPolicy)', () => {
  it('runs the ready actor the policy picks, one message per turn, and keeps the others in order', () => {
    const ran: string[] = [];
    const deferred: Array<() => void> = [];
    const picks = [2, 0, 1, 0];
    const s = new Scheduler((fn) => deferred.push(fn), () => undefined, () => false, { turnBudget: 1, slice: 1, pick: () => picks.shift() ?? 0 });
    const actor = (name: string, mail: number) => ({
      queued: false, mail,
      run(budget: number) { const n = Math.min(budget, this.mail); this.mail -= n; for (let i = 0; i < n; i++) ran.push(name); return n; },
      runnable() { return this.mail > 0; },
    });
    for (const a of [actor('a', 1), actor('b', 2), actor('c', 1)]) s.schedule(a);
    while (deferred.length > 0) deferred.shift()!();
    // ready a b c: pick 2 -> c; ready a b: pick 0 -> a; ready b: b, b
    expect(ran).toEqual(['c', 'a', 'b', 'b']);
  });
});

describe('Simulation', () => {
  it('prints a readable timeline: deliveries, handling, replies, crashes, restarts', async () => {
    const sim = await Simulation.start({ seed: 4, faults: [{ kind: 'crash', actor: 'f', onMessage: 1 }] });
    const f = (await sim.supervise({ id: 'sup', children: [{ id: 'f', actor: fragile }] })).ref<typeof fragile>('f')!;
    await sim.call(f, 'work').catch(() => undefined);
    expect(await sim.call(f, 'work')).toBe(1);
    const lines = sim.timeline().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^ +0ms +#0 +start +f +fragile start #1$/),
      expect.stringMatching(/deliver +test>f +work $/),
      expect.stringMatching(/handle +f +work  -> injected crash on message #1$/),
      expect.stringMatching(/dead-letter +f +'work' from test: crashed$/),
      expect.stringMatching(/start +f +fragile start #2$/), // restarted at once under restart credit, then reported
      expect.stringMatching(/crash +f +on 'work': f: injected crash on message #1 -> restart$/),
      expect.stringMatching(/reply +f>test +work -> ERR_ACTOR_CRASHED$/),
      expect.stringMatching(/deliver +test>f +work $/),
      expect.stringMatching(/handle +f +work $/),
      expect.stringMatching(/reply +f>test +work -> 1$/),
    ]);
    await sim.stop();
  });

  it('runs unchanged definitions to idle and answers asks', async () => {
    const sim = await relaySystem(1);
    expect(await sim.call({ id: 'c', kind: 'counter', node: 0 } as never, 'get')).toBe(190 + 500);
    expect(sim.handled.filter((h) => h.actor === 'c' && h.type === 'add')).toHaveLength(25);
    await sim.stop();
  });

  it('the same seed gives the same trace hash; different seeds interleave differently', async () => {
    const hashes = new Set<string>();
    const orders = new Set<string>();
    for (const seed of [7, 7, 7]) {
      const sim = await relaySystem(seed);
      hashes.add(sim.hash());
      await sim.stop();
    }
    expect(hashes.size).toBe(1);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const sim = await relaySystem(seed);
      orders.add(sim.handled.filter((h) => h.actor === 'c').map((h) => h.payload).join(','));
      await sim.stop();
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('keeps per-pair FIFO under random delays', async () => {
    for (const seed of [11, 12, 13, 14]) {
      const sim = await Simulation.start({ seed, maxDeliveryDelayMs: 50 });
      const c = await sim.spawn(counter, { id: 'c' });
      const r = await sim.spawn(relay, { id: 'r', args: { to: c } });
      for (let k = 0; k < 30; k++) sim.tell(r, 'pass', k);
      await sim.runUntilIdle();
      expect(sim.handled.filter((h) => h.actor === 'c').map((h) => h.payload)).toEqual([...Array(30).keys()]);
      await sim.stop();
    }
  });

  it('a 60 s circuit reset costs no real time', async () => {
    const sim = await Simulation.start({ seed: 3 });
    const tree = await sim.supervise({
      id: 'sup', strategy: 'one-for-one', intensity: { maxRestarts: 1, withinMs: 1000 }, onExhausted: 'open-circuit',
      backoff: { minMs: 0, maxMs: 0 }, circuit: { resetMs: 60_000, maxResetMs: 60_000, multiplier: 1 },
      children: [{ id: 'f', actor: fragile }],
    });
    const f = tree.ref<typeof fragile>('f')!;
    await sim.call(f, 'boom').catch(() => undefined);
    await sim.call(f, 'boom').catch(() => undefined);
    await expect(sim.call(f, 'work')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN' });
    const t0 = performance.now();
    await sim.advance(60_001);
    expect(await sim.call(f, 'work')).toBe(1);
    expect(sim.now).toBeGreaterThanOrEqual(60_001);
    expect(performance.now() - t0).toBeLessThan(5_000); // (a bound that only fails if virtual time were real)
    expect(sim.crashes.map((c) => c.decision)).toEqual(['restart', 'open-circuit']);
    await sim.stop();
  });

  it('names the budget a run exceeded', async () => {
    const sim = await Simulation.start({ seed: 1, maxSteps: 500 });
    sim.tell(await sim.spawn(looper, { id: 'l' }), 'spin');
    const err = await sim.runUntilIdle().catch((e) => e);
    expect(err).toBeInstanceOf(StepBudgetExceededError);
    expect(err.code).toBe('ERR_SIM_STEP_BUDGET');
    expect(err.details.budget).toBe('maxSteps');
    await sim.stop();

    const err2 = await Simulation.start({ seed: 1, maxVirtualMs: 1000, faults: [{ kind: 'delay', to: 'c', ms: 5000 }] }).then(async (s) => {
      const cc = await s.spawn(counter, { id: 'c' });
      s.tell(cc, 'add', 1);
      return s.runUntilIdle().catch((e) => e);
    });
    expect(err2).toBeInstanceOf(TimeBudgetExceededError);
    expect(err2.details.budget).toBe('maxVirtualMs');
  });

  it('a plan naming an unknown actor is a named error', async () => {
    const sim = await Simulation.start({ seed: 1, faults: [{ kind: 'crash', actor: 'nobody', onMessage: 1 }] });
    await sim.spawn(counter, { id: 'c' });
    await expect(sim.runUntilIdle()).rejects.toBeInstanceOf(UnknownFaultTargetError);
    await expect(Simulation.start({ seed: 1, faults: [{ kind: 'crash', actor: 'c', onMessage: 0 }] })).rejects.toBeInstanceOf(InvalidSimulationOptionError);
    await expect(Simulation.start({ seed: 1.5 })).rejects.toBeInstanceOf(InvalidSimulationOptionError);
  });

  it('a real timer in a handler is reported with what to change', async () => {
    const sim = await Simulation.start({ seed: 1 });
    sim.tell(await sim.spawn(sleepy, { id: 's' }), 'nap');
    const err = await sim.runUntilIdle().catch((e) => e);
    expect(err).toBeInstanceOf(NondeterminismError);
    expect(err.message).toMatch(/handler 'nap' of actor 's'.*setTimeout\(\).*message to self/);
    expect(typeof setTimeout(() => undefined, 0)).toBe('object'); // restored after the run
    await sim.stop();
  });

  it('a handler awaiting a real timer is reported', async () => {
    const sim = await Simulation.start({ seed: 1 });
    sim.tell(await sim.spawn(sleepy, { id: 's' }), 'wait');
    const err = await sim.runUntilIdle().catch((e) => e);
    expect(err).toBeInstanceOf(NondeterminismError);
    // (its setTimeout runs after an await, outside the handler's synchronous part: caught as still running at idle)
    expect(err.details.api).toBe('async-io');
    expect(err.message).toMatch(/handler 'wait' of actor 's'/);
    await sim.stop();
  });

  it('a handler still waiting on something real when the simulation goes idle is reported', async () => {
    const sim = await Simulation.start({ seed: 1 });
    sim.tell(await sim.spawn(sleepy, { id: 's' }), 'io');
    const err = await sim.runUntilIdle().catch((e) => e);
    expect(err).toBeInstanceOf(NondeterminismError);
    expect(err.details.api).toBe('async-io');
    expect(err.message).toMatch(/handler 'io' of actor 's'/);
  });
});

describe('fault plan targets', () => {
  it('may name actors the setup spawns later: they are checked when the test first runs the system', async () => {
    const sim = await Simulation.start({ seed: 1, faults: [{ kind: 'crash', actor: 'b', onMessage: 1 }] });
    const a = await sim.spawn(counter, { id: 'a' });
    const b = await sim.spawn(fragile, { id: 'b' });
    sim.tell(a, 'add', 1);
    sim.tell(b, 'work');
    await sim.runUntilIdle();
    expect(sim.handled.map((h) => `${h.actor}:${h.outcome}`).sort()).toEqual(['a:applied', 'b:injected-crash']);
    await sim.stop();
  });
});
