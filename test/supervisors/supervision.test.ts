import { describe, expect, it } from 'vitest';
import { runtimeWithCrashes, eventually, sleep, crashBehindMail } from './helpers.ts';
import { flaky } from '../fixtures/flaky.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { ActorCrashedError, CircuitOpenError, HandlerTimeoutError, ActorStoppedError } from '../../runtime/errors.ts';
import { InvalidSupervisorOptionError, type Supervisor } from '../../supervisors/index.ts';

const child = (id: string, extra: Record<string, unknown> = {}) => ({ id, actor: flaky, args: { tag: id }, ...extra });

describe.each([0, 2])('supervision with %i workers', (workers) => {
  it('a crashing child restarts in place: same id and ref, initial state, queued mail kept in order, the crashing message reported', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', children: [child('a'), child('b')] });
    const a = sup.ref<typeof flaky>('a')!;
    const b = sup.ref<typeof flaky>('b')!;
    const { crash, notices } = crashBehindMail(rt, a);
    const err = await crash;
    expect(err).toBeInstanceOf(ActorCrashedError);
    expect(await rt.ask(a, 'seen')).toEqual([1, 2]); // state from init; the queued adds delivered, in order
    expect(await rt.lookup('a')).toEqual(a);
    rt.tell(b, 'add', 3);
    expect(await rt.ask(b, 'get')).toBe(3); // the sibling carried on
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ actorId: 'a', kind: 'flaky', supervisor: 'root', messageType: 'crash', decision: 'restart', restartCount: 0 });
    expect(crashes[0].error.message).toBe('boom');
    expect(crashes[0].error.stack).toMatch(/crash/);
    expect(sup.children()).toMatchObject([{ id: 'a', status: 'running', restarts: 1 }, { id: 'b', status: 'running', restarts: 0 }]);
    expect((await rt.stats()).deadLetters.crashed).toBe(1);
    expect(notices).toEqual([]); // a restart is not a termination
    await sup.stop();
    await eventually(() => notices.length === 1);
    expect(notices[0].reason).toBe('stopped');
  });

  it('an async handler that rejects crashes its actor promptly', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', children: [child('a')] });
    const a = sup.ref<typeof flaky>('a')!;
    await expect(rt.ask(a, 'crashLater', 5)).rejects.toBeInstanceOf(ActorCrashedError);
    await eventually(() => crashes.length === 1);
    rt.tell(a, 'add', 1);
    expect(await rt.ask(a, 'get')).toBe(1);
  });

  it('one-for-all restarts every sibling; rest-for-one those started after the failed one (counted once)', async () => {
    for (const [strategy, reset] of [['one-for-all', ['a', 'b', 'c']], ['rest-for-one', ['b', 'c']]] as const) {
      const { rt, crashes } = await runtimeWithCrashes({ workers });
      const sup = await rt.supervise({ id: strategy, strategy, intensity: { maxRestarts: 1, withinMs: 60_000 }, children: [child('a'), child('b'), child('c')] });
      for (const id of ['a', 'b', 'c']) rt.tell(sup.ref<typeof flaky>(id)!, 'add', 10);
      for (const id of ['a', 'b', 'c']) await rt.ask(sup.ref<typeof flaky>(id)!, 'get');
      await rt.ask(sup.ref<typeof flaky>('b')!, 'crash', 'x').catch(() => undefined);
      await eventually(async () => (await rt.ask(sup.ref<typeof flaky>('c')!, 'get')) === 0);
      for (const id of ['a', 'b', 'c']) expect(await rt.ask(sup.ref<typeof flaky>(id)!, 'get')).toBe((reset as readonly string[]).includes(id) ? 0 : 10);
      expect(crashes.map((c) => c.decision)).toEqual([strategy === 'one-for-all' ? 'restart-all' : 'restart-rest']);
      expect(sup.status).toBe('running'); // one group restart counted once: maxRestarts 1 is not exceeded
      await rt.shutdown();
    }
  });

  it('intensity exhausted: the supervisor escalates; a root supervisor stops its children and reports failure', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', intensity: { maxRestarts: 2, withinMs: 60_000 }, children: [child('a'), child('b')] });
    const failed = new Promise((resolve) => sup.onFailure(resolve));
    for (let i = 0; i < 3; i++) {
      await rt.ask(sup.ref<typeof flaky>('a')!, 'crash', `#${i}`).catch(() => undefined);
      await eventually(() => crashes.length === i + 1);
      await sleep(5);
    }
    await failed;
    expect(crashes.map((c) => c.decision)).toEqual(['restart', 'restart', 'escalate']);
    expect(sup.status).toBe('failed');
    await eventually(async () => (await rt.lookup('a')) === undefined && (await rt.lookup('b')) === undefined);
  });

  it('nested supervisors: a child supervisor that gives up is restarted by its parent', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const root = await rt.supervise({
      id: 'root',
      children: [child('top'), { id: 'team', intensity: { maxRestarts: 0, withinMs: 60_000 }, children: [child('x'), child('y')] }],
    });
    const team = root.child('team')!;
    rt.tell(team.ref<typeof flaky>('y')!, 'add', 4);
    await rt.ask(team.ref<typeof flaky>('y')!, 'get');
    await rt.ask(team.ref<typeof flaky>('x')!, 'crash', 'bad').catch(() => undefined);
    await eventually(() => crashes.some((c) => c.supervisor === 'root'));
    expect(crashes.map((c) => [c.supervisor, c.decision])).toEqual([['team', 'escalate'], ['root', 'restart']]);
    const again = root.child('team')!;
    await eventually(() => again.status === 'running' && again.ref<typeof flaky>('y') !== undefined);
    expect(await rt.ask(again.ref<typeof flaky>('y')!, 'get')).toBe(0); // the subtree started afresh
    expect(root.children().map((c) => [c.id, c.type, c.status])).toEqual([['top', 'actor', 'running'], ['team', 'supervisor', 'running']]);
  });

  it('restart types: permanent restarts after a normal stop, transient does not, temporary never restarts', async () => {
    const { rt } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({
      id: 'root',
      children: [child('perm'), child('trans', { restart: 'transient' }), child('temp', { restart: 'temporary' })],
    });
    rt.tell(sup.ref<typeof flaky>('perm')!, 'quit');
    rt.tell(sup.ref<typeof flaky>('trans')!, 'quit');
    await rt.ask(sup.ref<typeof flaky>('temp')!, 'crash', 'x').catch(() => undefined);
    await eventually(() => sup.children().length === 1);
    expect(sup.children().map((c) => c.id)).toEqual(['perm']);
    await eventually(async () => (await rt.lookup('perm')) !== undefined);
    expect(await rt.ask(sup.ref<typeof flaky>('perm')!, 'get')).toBe(0);
    expect(await rt.lookup('trans')).toBeUndefined();
  });

  it('a failing start stops the children already started, in reverse order, and rejects with the cause', async () => {
    const { rt } = await runtimeWithCrashes({ workers });
    const attempt = rt.supervise({ id: 'root', children: [child('first'), child('second'), { id: 'bad', actor: flaky, args: { tag: 'bad-start', failInitAfter: 0 } }] });
    await expect(attempt).rejects.toThrow(/init refused/);
    expect(await rt.lookup('first')).toBeUndefined();
    expect(await rt.lookup('second')).toBeUndefined();
  });

  it('dynamic children, introspection, and stopping in reverse start order', async () => {
    const { rt } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'pool', children: [] });
    for (const id of ['w1', 'w2', 'w3']) await sup.startChild(child(id));
    await expect(sup.startChild(child('w2'))).rejects.toBeInstanceOf(InvalidSupervisorOptionError);
    await sup.stopChild('w2');
    expect(sup.children().map((c) => c.id)).toEqual(['w1', 'w3']);
    const order: string[] = [];
    for (const id of ['w1', 'w3']) rt.watch(sup.ref<typeof flaky>(id)!, (n) => order.push(n.id));
    await sup.stop();
    expect(order).toEqual(['w3', 'w1']);
    expect(sup.status).toBe('stopped');
  });

  it('shutdown policies: kill at once, or kill after the grace period', async () => {
    const { rt } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', children: [child('graceful', { shutdown: { graceMs: 50 } }), child('killed', { shutdown: 'kill' })] });
    const hung = rt.ask(sup.ref<typeof flaky>('graceful')!, 'hang', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    const hung2 = rt.ask(sup.ref<typeof flaky>('killed')!, 'hang', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    await sleep(10); // both handlers are running
    const t = Date.now();
    await sup.stop();
    expect(Date.now() - t).toBeLessThan(3000);
    expect(await hung).toBeInstanceOf(ActorStoppedError);
    expect(await hung2).toBeInstanceOf(ActorStoppedError);
  });

  it('an async handler past its handler timeout crashes its actor (reason: timeout) and it restarts', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers });
    const sup = await rt.supervise({ id: 'root', children: [child('slowpoke', { handlerTimeoutMs: 30 })] });
    const err = await rt.ask(sup.ref<typeof flaky>('slowpoke')!, 'hang', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorCrashedError);
    expect((err as Error).cause).toBeInstanceOf(HandlerTimeoutError);
    await eventually(() => crashes.length === 1);
    expect(crashes[0].error.name).toBe('HandlerTimeoutError');
    expect(await rt.ask(sup.ref<typeof flaky>('slowpoke')!, 'slow', 1)).toBe(100);
  });

  it('rejects a malformed tree before starting anything', async () => {
    const { rt } = await runtimeWithCrashes({ workers });
    await expect(rt.supervise({ id: 'root', strategy: 'all-for-none' as never, children: [] })).rejects.toBeInstanceOf(InvalidSupervisorOptionError);
    await expect(rt.supervise({ id: 'root', intensity: { maxRestarts: -1, withinMs: 10 }, children: [] })).rejects.toThrow(/maxRestarts/);
    await expect(rt.supervise({ id: 'root', children: [child('a'), child('a')] })).rejects.toThrow(/used twice/);
    await expect(rt.supervise({ id: 'root', children: [{ id: 'x', actor: {} as never }] })).rejects.toThrow(/defineActor/);
    expect(await rt.lookup('a')).toBeUndefined();
  });
});

describe('backoff, stash and circuit breaking (injected clock)', () => {
  it('mail sent during backoff is held and delivered in order; overflow becomes dead letters', async () => {
    const clock = new ManualClock();
    const { rt, crashes } = await runtimeWithCrashes({ workers: 0, clock });
    const sup = await rt.supervise({ id: 'root', stash: 3, backoff: { minMs: 100, randomFactor: 0 }, children: [child('a')] });
    const a = sup.ref<typeof flaky>('a')!;
    await rt.ask(a, 'crash', 'x').catch(() => undefined);
    expect(crashes[0]).toMatchObject({ decision: 'restart', delayMs: 100 });
    for (let i = 1; i <= 5; i++) rt.tell(a, 'add', i);
    expect(sup.children()[0].status).toBe('restarting');
    clock.advance(100);
    await eventually(async () => (await rt.ask(a, 'seen')).length === 3);
    expect(await rt.ask(a, 'seen')).toEqual([1, 2, 3]);
    expect((await rt.stats()).deadLetters['stash-full']).toBe(2);
  });

  it('open circuit fails fast with the retry time; half-open admits one trial; failure doubles the reset time; success closes', async () => {
    const clock = new ManualClock();
    const { rt, crashes } = await runtimeWithCrashes({ workers: 0, clock, random: () => 0 });
    const sup: Supervisor = await rt.supervise({
      id: 'root', onExhausted: 'open-circuit', intensity: { maxRestarts: 1, withinMs: 60_000 },
      circuit: { resetMs: 1000, maxResetMs: 10_000, multiplier: 2 }, children: [child('agent'), child('other')],
    });
    const agent = sup.ref<typeof flaky>('agent')!;
    await rt.ask(agent, 'crash', '1').catch(() => undefined);
    await rt.ask(agent, 'crash', '2').catch(() => undefined);
    expect(crashes.map((c) => c.decision)).toEqual(['restart', 'open-circuit']);
    const open = await rt.ask(agent, 'get').catch((e: unknown) => e);
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect((open as CircuitOpenError).details).toMatchObject({ retryInMs: 1000 });
    rt.tell(agent, 'add', 1);
    expect((await rt.stats()).deadLetters['circuit-open']).toBe(2); // the failed ask and the tell
    expect(sup.children()[0]).toMatchObject({ status: 'circuit-open', circuit: { state: 'open', resetTimeoutMs: 1000, retryAt: 1000 } });
    rt.tell(sup.ref<typeof flaky>('other')!, 'add', 1); // the sibling is unaffected
    expect(await rt.ask(sup.ref<typeof flaky>('other')!, 'get')).toBe(1);

    clock.advance(1000); // half-open: the next message is the one trial; it fails
    expect(sup.children()[0].status).toBe('half-open');
    await rt.ask(agent, 'crash', 'trial').catch(() => undefined);
    expect(crashes.at(-1)!.decision).toBe('reopen-circuit');
    expect(sup.children()[0].circuit).toMatchObject({ state: 'open', resetTimeoutMs: 2000 });
    clock.advance(1999);
    await expect(rt.ask(agent, 'get')).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(1);
    const trial = rt.ask(agent, 'slow', 5); // the trial, in flight...
    await expect(rt.ask(agent, 'get')).rejects.toBeInstanceOf(CircuitOpenError); // ...so others fail fast
    expect(await trial).toBe(100);
    expect(sup.children()[0]).toMatchObject({ status: 'running', circuit: { state: 'closed', resetTimeoutMs: 1000 } });
    rt.tell(agent, 'add', 1);
    expect(await rt.ask(agent, 'get')).toBe(101);
  });
  it('a group restart leaves a sibling whose circuit is open alone', async () => {
    const clock = new ManualClock();
    const { rt, crashes } = await runtimeWithCrashes({ workers: 0, clock, random: () => 0 });
    const sup = await rt.supervise({ id: 'root', strategy: 'one-for-all', onExhausted: 'open-circuit', intensity: { maxRestarts: 1, withinMs: 60_000 }, children: [child('a'), child('b')] });
    await rt.ask(sup.ref<typeof flaky>('b')!, 'crash', '1').catch(() => undefined);
    await rt.ask(sup.ref<typeof flaky>('b')!, 'crash', '2').catch(() => undefined);
    expect(sup.children()[1].status).toBe('circuit-open');
    clock.advance(100);
    await rt.ask(sup.ref<typeof flaky>('a')!, 'crash', 'a').catch(() => undefined);
    expect(crashes.map((c) => c.decision)).toEqual(['restart-all', 'open-circuit', 'restart-all']);
    expect(sup.children().map((c) => c.status)).toEqual(['running', 'circuit-open']);
    await expect(rt.ask(sup.ref<typeof flaky>('b')!, 'get')).rejects.toBeInstanceOf(CircuitOpenError);
  });
});

describe('faults below the actor', () => {
  it('a worker thread that dies is replaced; its supervised actors restart there and answer again', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers: 2 });
    const sup = await rt.supervise({ id: 'root', children: [child('victim', { pin: 1 }), child('neighbour', { pin: 1 }), child('safe', { pin: 2 })] });
    const loose = await rt.spawn(flaky, { pin: 1, id: 'unsupervised' });
    rt.tell(sup.ref<typeof flaky>('neighbour')!, 'add', 3);
    const err = await rt.ask(sup.ref<typeof flaky>('victim')!, 'die', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('ERR_WORKER_LOST');
    await eventually(() => crashes.length === 2);
    expect(crashes.map((c) => c.actorId).sort()).toEqual(['neighbour', 'victim']);
    for (const id of ['victim', 'neighbour']) {
      await eventually(async () => (await rt.ask(sup.ref<typeof flaky>(id)!, 'get').catch(() => -1)) === 0);
      expect(sup.ref<typeof flaky>(id)!.node).toBe(1);
    }
    expect(await rt.lookup('unsupervised')).toBeUndefined();
    void loose;
    rt.tell(sup.ref<typeof flaky>('safe')!, 'add', 1);
    expect(await rt.ask(sup.ref<typeof flaky>('safe')!, 'get')).toBe(1);
  });

  it('a thread stuck in an endless loop is detected within the stall time, terminated and replaced', async () => {
    const { rt, crashes } = await runtimeWithCrashes({ workers: 2, stallMs: 1000 });
    const sup = await rt.supervise({ id: 'root', children: [child('spinner', { pin: 2 })] });
    const t = Date.now();
    const err = await rt.ask(sup.ref<typeof flaky>('spinner')!, 'spin', undefined, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('ERR_WORKER_LOST');
    expect(Date.now() - t).toBeLessThan(5000);
    await eventually(() => crashes.length === 1);
    await eventually(async () => (await rt.ask(sup.ref<typeof flaky>('spinner')!, 'get').catch(() => -1)) === 0);
  });
});
