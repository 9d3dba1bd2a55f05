/**
 * Restart credit on real threads: a crash the supervisor pre-authorised is restarted on the child's own thread at
 * once and counted when the report reaches the supervisor (CrashReport.local). Everything observable must be what
 * the supervisor deciding each crash itself gives: decisions, restart counts, the crash at which intensity runs out,
 * queued mail, dead letters, circuits. The model-based test (model.test.ts) covers the same ground at random.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runtimeWithCrashes, eventually, crashBehindMail } from './helpers.ts';
import { Runtime } from '../../runtime/index.ts';
import { flaky } from '../fixtures/flaky.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { ActorCrashedError, CircuitOpenError } from '../../runtime/errors.ts';
import type { CrashReport, Supervisor, SupervisorSpec } from '../../supervisors/index.ts';

const child = (id: string, extra: Record<string, unknown> = {}) => ({ id, actor: flaky, args: { tag: id }, ...extra });
const summary = (crashes: CrashReport[]) => crashes.map((c) => [c.actorId, c.messageType, c.decision, c.restartCount, c.local ?? false]);

describe.each([0, 2])('restart credit with %i workers', (workers) => {
  const pin = workers > 0 ? 1 : 0;

  it('a crash is restarted on the child\'s thread: queued mail kept in order, the crashing message a dead letter, the restart counted', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', intensity: { maxRestarts: 10, withinMs: 60_000 }, children: [child('a', { pin }), child('b', { pin })] });
    const a = sup.ref<typeof flaky>('a')!;
    const { crash, notices } = crashBehindMail(rt, a);
    expect(await crash).toBeInstanceOf(ActorCrashedError);
    expect(await rt.ask(a, 'seen')).toEqual([1, 2]); // a new incarnation; the mail queued behind the crash, in order
    await eventually(() => crashes.length === 1);
    expect(crashes[0]).toMatchObject({ actorId: 'a', messageType: 'crash', decision: 'restart', restartCount: 0, delayMs: 0, local: true });
    expect(crashes[0].error.message).toBe('boom');
    expect(sup.children()).toMatchObject([{ id: 'a', status: 'running', restarts: 1 }, { id: 'b', status: 'running', restarts: 0 }]);
    const stats = await rt.stats();
    expect(stats.deadLetters.crashed).toBe(1);
    expect(stats.nodes.flatMap((n) => n.actors).find((s) => s.id === 'a')).toMatchObject({ phase: 'running' });
    // An async handler that rejects, and the next crash after that: each restarted there, each counted.
    await expect(rt.ask(a, 'crashLater', 1)).rejects.toBeInstanceOf(ActorCrashedError);
    await eventually(() => crashes.length === 2);
    await rt.ask(a, 'crash', 'again').catch(() => undefined);
    await eventually(() => crashes.length === 3);
    expect(summary(crashes)).toEqual([['a', 'crash', 'restart', 0, true], ['a', 'crashLater', 'restart', 1, true], ['a', 'crash', 'restart', 2, true]]);
    expect(sup.children()[0].restarts).toBe(3);
    expect(notices).toEqual([]); // a restart is not a termination
  });

  it('intensity runs out at exactly the same crash as when the supervisor decides every restart', async () => {
    const results: unknown[] = [];
    for (const backoff of [{ minMs: 0 }, { minMs: 1, maxMs: 1, randomFactor: 0 }]) { // with credit; without (a delay)
      const { rt, crashes } = await runtimeWithCrashes({ workers });
      const sup = await rt.supervise({ id: 'root', intensity: { maxRestarts: 2, withinMs: 60_000 }, backoff, children: [child('a', { pin })] });
      const failed = new Promise((resolve) => sup.onFailure(resolve));
      for (let i = 0; i < 3; i++) {
        await eventually(async () => (await rt.ask(sup.ref<typeof flaky>('a')!, 'get').catch(() => -1)) === 0);
        await rt.ask(sup.ref<typeof flaky>('a')!, 'crash', `#${i}`).catch(() => undefined);
        await eventually(() => crashes.length === i + 1);
      }
      await failed;
      expect(sup.status).toBe('failed');
      // With credit, the two restarts the window allows happen on the thread; the crash that exhausts it does not.
      expect(crashes.map((c) => c.local ?? false)).toEqual(backoff.minMs === 0 ? [true, true, false] : [false, false, false]);
      results.push(crashes.map((c) => [c.decision, c.restartCount]));
      await rt.shutdown();
    }
    expect(results[0]).toEqual([['restart', 0], ['restart', 1], ['escalate', 2]]);
    expect(results[1]).toEqual(results[0]);
  });

  it('a restart under credit is counted even when the next message, in the same turn, kills the thread', async () => {
    if (workers === 0) return; // only a worker thread can die
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', intensity: { maxRestarts: 1, withinMs: 60_000 }, children: [child('a', { pin })] });
    let failed = false;
    sup.onFailure(() => void (failed = true));
    const a = sup.ref<typeof flaky>('a')!;
    rt.tell(a, 'crash', 'first'); // restarted on its thread under credit (restart 1 of 1)
    rt.tell(a, 'die'); // handled by the new incarnation in the same turn: the thread exits (a 2nd failure)
    await eventually(() => failed);
    expect(summary(crashes)).toEqual([['a', 'crash', 'restart', 0, true], ['a', '$exit', 'escalate', 1, false]]);
  });

  it('two crashes in a row: the second restarts on the thread only if fresh credit came in between', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', intensity: { maxRestarts: 10, withinMs: 60_000 }, children: [child('a', { pin })] });
    const a = sup.ref<typeof flaky>('a')!;
    rt.tell(a, 'crash', '1');
    rt.tell(a, 'crash', '2');
    rt.tell(a, 'add', 1);
    rt.tell(a, 'add', 2);
    await eventually(() => crashes.length === 2);
    expect(await rt.ask(a, 'seen')).toEqual([1, 2]);
    // Across threads the credit spent on the first crash is renewed a round trip later, after the second crash:
    // that one waits for the supervisor. On one thread the report is handled (and credit renewed) at once.
    expect(summary(crashes)).toEqual([['a', 'crash', 'restart', 0, true], ['a', 'crash', 'restart', 1, workers === 0]]);
    expect(sup.children()[0]).toMatchObject({ status: 'running', restarts: 2 });
    expect((await rt.stats()).deadLetters.crashed).toBe(2);
    rt.tell(a, 'crash', '3'); // credit renewed either way
    await eventually(() => crashes.length === 3);
    expect(crashes[2]).toMatchObject({ decision: 'restart', restartCount: 2, local: true });
  });

  it('a restart under credit whose init fails counts as a crash of its own, decided by the supervisor', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({
      id: 'root', intensity: { maxRestarts: 2, withinMs: 60_000 },
      children: [{ id: 'a', actor: flaky, args: { tag: `init-${workers}`, failInitAfter: 1 }, pin }],
    });
    const failed = new Promise((resolve) => sup.onFailure(resolve));
    await rt.ask(sup.ref<typeof flaky>('a')!, 'crash', 'x').catch(() => undefined);
    await failed;
    expect(summary(crashes)).toEqual([['a', 'crash', 'restart', 0, true], ['a', '$init', 'restart', 1, false], ['a', '$init', 'escalate', 2, false]]);
  });

  it('open-circuit mode: the circuit opens at the same crash; after a successful trial the child gets credit again', async () => {
    const clock = new ManualClock();
    const { rt, crashes } = await runtimeWithCrashes({ workers, clock, random: () => 0 });
    const sup = await rt.supervise({
      id: 'root', onExhausted: 'open-circuit', intensity: { maxRestarts: 1, withinMs: 60_000 },
      circuit: { resetMs: 1000, maxResetMs: 10_000, multiplier: 2 }, children: [child('agent', { pin }), child('other', { pin })],
    });
    const agent = sup.ref<typeof flaky>('agent')!;
    await rt.ask(agent, 'crash', '1').catch(() => undefined);
    await eventually(() => crashes.length === 1);
    await rt.ask(agent, 'crash', '2').catch(() => undefined);
    await eventually(() => crashes.length === 2);
    expect(summary(crashes)).toEqual([['agent', 'crash', 'restart', 0, true], ['agent', 'crash', 'open-circuit', 1, false]]);
    await eventually(async () => (await rt.ask(agent, 'get').catch((e: unknown) => e)) instanceof CircuitOpenError);
    expect(sup.children()[0]).toMatchObject({ status: 'circuit-open', restarts: 1, circuit: { state: 'open', trips: 1 } });
    rt.tell(sup.ref<typeof flaky>('other')!, 'add', 1);
    expect(await rt.ask(sup.ref<typeof flaky>('other')!, 'get')).toBe(1); // the sibling and its own credit are unaffected

    clock.advance(1000);
    expect(sup.children()[0].status).toBe('half-open');
    expect(await rt.ask(agent, 'get')).toBe(0); // the trial succeeds: circuit closed, window and credit renewed
    expect(sup.children()[0]).toMatchObject({ status: 'running', circuit: { state: 'closed' } });
    await rt.ask(agent, 'crash', '3').catch(() => undefined);
    await eventually(() => crashes.length === 3);
    expect(crashes[2]).toMatchObject({ decision: 'restart', restartCount: 1, local: true });
    await rt.ask(agent, 'crash', '4').catch(() => undefined);
    await eventually(() => crashes.length === 4);
    expect(crashes[3]).toMatchObject({ decision: 'open-circuit', restartCount: 2 });
    expect(crashes[3].local).toBeUndefined();
  });
});

describe('restart credit across threads', () => {
  it('a shared window: a crash needing the room promised to a sibling waits until that credit is revoked', async () => {
    // maxRestarts 2 over both children: each holds one credit. After a's restart on its thread, a's next crash
    // would take the last restart promised to b: b's credit is revoked first, so b's crash after that goes to the
    // supervisor and is the one that exhausts the window, as it would be without credit.
    const { rt, crashes } = await runtimeWithCrashes({ workers: 2 });
    const spec: SupervisorSpec = { id: 'root', intensity: { maxRestarts: 2, withinMs: 60_000 }, children: [child('a', { pin: 1 }), child('b', { pin: 2 })] };
    const sup = await rt.supervise(spec);
    const failed = new Promise((resolve) => sup.onFailure(resolve));
    const a = sup.ref<typeof flaky>('a')!;
    const b = sup.ref<typeof flaky>('b')!;
    rt.tell(b, 'add', 7);
    await rt.ask(a, 'crash', '1').catch(() => undefined);
    await eventually(() => crashes.length === 1);
    await rt.ask(a, 'crash', '2').catch(() => undefined);
    await eventually(() => crashes.length === 2);
    expect(await rt.ask(a, 'get')).toBe(0);
    expect(await rt.ask(b, 'get')).toBe(7); // b was not disturbed, only its credit taken back
    await rt.ask(b, 'crash', '3').catch(() => undefined);
    await failed;
    expect(summary(crashes)).toEqual([['a', 'crash', 'restart', 0, true], ['a', 'crash', 'restart', 1, false], ['b', 'crash', 'escalate', 0, false]]);
    expect(sup.status).toBe('failed');
  });

  it('no credit where the supervisor must decide: one-for-all, backoff, temporary children', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers: 2 });
    const specs: SupervisorSpec[] = [
      { id: 'all', strategy: 'one-for-all', children: [child('x1', { pin: 1 }), child('x2', { pin: 2 })] },
      { id: 'slow', backoff: { minMs: 1, randomFactor: 0 }, children: [child('y', { pin: 1 })] },
      { id: 'temp', children: [child('z', { pin: 1, restart: 'temporary' })] },
    ];
    for (const spec of specs) {
      const sup = await rt.supervise(spec);
      await rt.ask(sup.ref<typeof flaky>(spec.children[0].id)!, 'crash', 'x').catch(() => undefined);
    }
    await eventually(() => crashes.length === 3);
    expect(crashes.map((c) => [c.actorId, c.decision, c.local ?? false])).toEqual([['x1', 'restart-all', false], ['y', 'restart', false], ['z', 'remove', false]]);
  });
});

describe('restart credit in a shared window, at random', () => {
  const RUNS = Math.max(5, Math.round(Number(process.env.TROUPE_FC_RUNS ?? 20) / 2));
  let rt: Runtime;
  let run = 0;
  beforeAll(async () => {
    rt = await Runtime.start({ workers: 2, stallMs: 0 });
  });
  afterAll(() => rt?.shutdown());

  // Children on both workers crash in random order, one at a time or in bursts. Whatever path each restart took
  // (on its thread under credit, or decided here, possibly after a revocation), the supervisor must decide as OTP:
  // the first maxRestarts crashes it hears of are restarts, the next one escalates, and nothing is restarted after.
  it('property: the crash that exhausts the window is the (maxRestarts + 1)-th, whatever the mix of paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.record({ child: fc.nat({ max: 3 }), burst: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        async (maxRestarts, children, crashes) => {
          const n = ++run;
          const ids = Array.from({ length: children }, (_, i) => `s${n}-${i}`);
          const reports: CrashReport[] = [];
          const off = rt.onCrash((c) => c.supervisor === `s${n}` && reports.push(c));
          let sup: Supervisor | undefined;
          try {
            sup = await rt.supervise({
              id: `s${n}`, intensity: { maxRestarts, withinMs: 600_000 },
              children: ids.map((id, i) => ({ id, actor: flaky, args: { tag: id }, pin: 1 + (i % 2), shutdown: 'kill' as const })),
            });
            const pending: Promise<unknown>[] = [];
            for (const c of crashes) {
              const ref = sup.ref<typeof flaky>(ids[c.child % children]);
              if (ref === undefined) break;
              const p = rt.ask(ref, 'crash', 'x').then(() => 'answered', (e: unknown) => e);
              pending.push(p);
              if (!c.burst) await p;
            }
            const outcomes = await Promise.all(pending);
            const handled = outcomes.filter((e) => e instanceof ActorCrashedError).length;
            await eventually(() => reports.length === handled);
            const decisions = reports.map((r) => r.decision);
            const restarts = Math.min(handled, maxRestarts);
            expect(decisions.slice(0, restarts)).toEqual(Array(restarts).fill('restart'));
            if (handled > maxRestarts) {
              expect(decisions[maxRestarts]).toBe('escalate');
              expect(decisions.slice(maxRestarts + 1).every((d) => d === 'ignore')).toBe(true);
              expect(reports.slice(maxRestarts).every((r) => r.local === undefined)).toBe(true);
              await eventually(() => sup!.status === 'failed');
            } else expect(sup.status).toBe('running');
            expect(sup.children().reduce((sum, k) => sum + k.restarts, 0)).toBe(restarts);
          } finally {
            off();
            await sup?.stop();
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
