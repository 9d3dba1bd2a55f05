/**
 * Stopping a supervised child whose handler is busy and then crashes (issue #3): the stop was queued behind the
 * running handler, so the crash must not park the actor in 'restarting' (its supervisor, stopping, decides nothing
 * and the stop would never complete). The stop wins: the actor ends stopped, its watchers are told once, and the
 * crash is reported with the decision 'ignore'. With and without restart credit, on one thread and on workers.
 */
import { describe, expect, it } from 'vitest';
import { runtimeWithCrashes, eventually } from './helpers.ts';
import { flaky } from '../fixtures/flaky.ts';
import { ActorCrashedError } from '../../runtime/errors.ts';
import type { TerminationNotice } from '../../actors/define.ts';
import type { SupervisorSpec } from '../../supervisors/index.ts';
import type { Runtime } from '../../runtime/index.ts';

/** Wait until actor `id` has taken `n` messages (an async handler counts once it has started). */
async function handling(rt: Runtime, id: string, n: number): Promise<void> {
  await eventually(async () => ((await rt.stats()).nodes.flatMap((x) => x.actors).find((a) => a.id === id)?.handled ?? 0) >= n);
}

// Credit needs one-for-one with backoff minMs 0 (the default); any backoff makes every crash the supervisor's to decide.
const credit = { withCredit: {}, withoutCredit: { backoff: { minMs: 10, randomFactor: 0 } } } as const;

describe.each([0, 2])('a crash while a shutdown waits for a busy handler, %i workers', (workers) => {
  const pin = workers > 0 ? 1 : 0;

  for (const [name, extra] of Object.entries(credit)) {
    for (const how of ['supervisor stop', 'stopChild'] as const) {
      it(`${name}, ${how}: the stop completes, the actor ends stopped, watchers are told once`, async () => {
        const { rt, crashes } = await runtimeWithCrashes({ workers });
        const spec: SupervisorSpec = {
          id: 'root', ...extra,
          children: [{ id: 'busy', actor: flaky, args: { tag: `busy-${name}-${how}` }, pin, shutdown: 'wait' }],
        };
        const sup = await rt.supervise(spec);
        const busy = sup.ref<typeof flaky>('busy')!;
        const notices: TerminationNotice[] = [];
        rt.watch(busy, (n) => notices.push(n));
        expect(await rt.ask(busy, 'get')).toBe(0); // running
        const crash = rt.ask(busy, 'crashLater', 300).catch((e: unknown) => e); // busy once taken, rejects 300 ms later
        rt.tell(busy, 'add', 1); // queued behind it: a dead letter when it stops
        await handling(rt, 'busy', 2); // 'get', then 'crashLater' taken: its handler runs
        await (how === 'supervisor stop' ? sup.stop() : sup.stopChild('busy')); // waits for the handler, which crashes
        expect(await crash).toBeInstanceOf(ActorCrashedError);
        await eventually(() => notices.length > 0);
        expect(await rt.lookup('busy')).toBeUndefined();
        const stats = await rt.stats();
        expect(stats.nodes.flatMap((n) => n.actors).map((a) => a.id)).not.toContain('busy');
        expect(stats.deadLetters).toMatchObject({ crashed: 1, stopped: 1 });
        expect(notices).toEqual([{ id: 'busy', kind: 'flaky', reason: 'stopped' }]);
        expect(crashes.map((c) => [c.actorId, c.messageType, c.decision])).toEqual([['busy', 'crashLater', 'ignore']]);
        if (how === 'stopChild') expect(sup.children()).toEqual([]);
        else expect(sup.status).toBe('stopped');
      });
    }
  }

  it('a handler past its timeout while a shutdown waits for it: the stop completes', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({
      id: 'root', backoff: { minMs: 10, randomFactor: 0 },
      children: [{ id: 'slow', actor: flaky, args: { tag: 'slow' }, pin, shutdown: 'wait', handlerTimeoutMs: 300 }],
    });
    const slow = sup.ref<typeof flaky>('slow')!;
    const notices: TerminationNotice[] = [];
    rt.watch(slow, (n) => notices.push(n));
    const hung = rt.ask(slow, 'hang', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    await handling(rt, 'slow', 1);
    await sup.stop();
    expect(await hung).toBeInstanceOf(ActorCrashedError);
    await eventually(() => notices.length > 0);
    expect(notices.map((n) => n.reason)).toEqual(['stopped']);
    expect(crashes.map((c) => c.decision)).toEqual(['ignore']);
    expect(await rt.lookup('slow')).toBeUndefined();
  });

  it('a child that stops itself and then throws, while its supervisor runs: stopped, then restarted as after a normal stop', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', backoff: { minMs: 10, randomFactor: 0 }, children: [{ id: 'q', actor: flaky, args: { tag: 'q' }, pin }] });
    const q = sup.ref<typeof flaky>('q')!;
    rt.tell(q, 'add', 5);
    await rt.ask(q, 'quitThenCrash').catch(() => undefined);
    await eventually(async () => (await rt.ask(q, 'get').catch(() => -1)) === 0); // a new incarnation
    // The crash is reported but decides nothing; the stop that follows is what the supervisor restarts it for.
    expect(crashes.map((c) => [c.messageType, c.decision])).toEqual([['quitThenCrash', 'ignore'], ['$exit', 'restart']]);
    expect(sup.children()).toMatchObject([{ id: 'q', status: 'running', restarts: 1 }]);
  });
});
