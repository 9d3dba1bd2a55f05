import { describe, expect, it } from 'vitest';
import '../../router/index.ts';
import { NoRouteError, InvalidRouteError, InvalidStrategyChoiceError, UnknownStrategyError, route } from '../../router/index.ts';
import { startRuntime, eventually } from '../kernel/helpers.ts';
import { helper, dispatcher } from '../fixtures/routed.ts';
import { recorder } from '../fixtures/kinds.ts';
import { counter } from '../fixtures/counter.ts';
import { UnknownMessageTypeError } from '../../runtime/errors.ts';

describe.each([0, 2])('routing by capability with %i workers', (workers) => {
  it('asks, tells and sends by capability reach a live actor offering it, from outside and inside handlers', async () => {
    const rt = await startRuntime({ workers });
    const a = await rt.spawn(helper, { id: 'h-a' });
    const b = await rt.spawn(helper, { id: 'h-b' });
    const reply = await rt.ask({ capability: 'help' }, 'quick', 1);
    expect(['h-a', 'h-b']).toContain(reply.by);
    const typed = await rt.ask(route(helper, { capability: 'help' }), 'quick', 2);
    expect(typed.n).toBe(2);
    for (let i = 0; i < 20; i++) rt.tell({ capability: 'help' }, 'quick', i);
    const receipt = await rt.send({ capability: 'help' }, 'quick', 3);
    expect(receipt.duplicate).toBe(false);
    await eventually(async () => (await rt.ask(a, 'handled')) + (await rt.ask(b, 'handled')) >= 23);
    const d = await rt.spawn(dispatcher);
    expect(['h-a', 'h-b']).toContain((await rt.ask(d, 'askHelp', 5)).by);
    expect(await rt.ask(d, 'find', 'help')).toEqual(expect.arrayContaining(['h-a', 'h-b']));
    // A route is plain data: it travels inside a message and is used on the receiver's thread.
    expect(['h-a', 'h-b']).toContain((await rt.ask(d, 'forward', { to: { capability: 'help' }, n: 7 })).by);
  });

  it('capabilities come from the definition and the spawn; a route may require several', async () => {
    const rt = await startRuntime({ workers });
    await rt.spawn(helper, { id: 'plain' });
    await rt.spawn(helper, { id: 'reviewer', capabilities: ['code-review'] });
    await rt.spawn(counter, { id: 'counting', capabilities: ['count'] });
    for (let i = 0; i < 10; i++) expect((await rt.ask({ capability: ['help', 'code-review'] }, 'quick', i)).by).toBe('reviewer');
    expect(rt.capabilities('code-review').map((m) => m.id)).toEqual(['reviewer']);
    const all = rt.capabilities();
    expect(Object.keys(all).sort()).toEqual(['code-review', 'count', 'counting', 'help']);
    expect(all.help.map((m) => m.id).sort()).toEqual(['plain', 'reviewer']);
    expect(all.help[0]).toMatchObject({ health: 'healthy', kind: 'helper' });
  });

  it('no actor offers it: asks fail at once with NoRouteError, tells become no-route dead letters', async () => {
    const rt = await startRuntime({ workers });
    await expect(rt.ask({ capability: 'nobody' }, 'x')).rejects.toBeInstanceOf(NoRouteError);
    await expect(rt.send({ capability: 'nobody' }, 'x')).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
    rt.tell({ capability: 'nobody' }, 'x');
    expect((await rt.stats()).deadLetters['no-route']).toBe(1);
    const d = await rt.spawn(dispatcher);
    await rt.spawn(helper, { id: 'only' });
    await rt.stop((await rt.lookup('only'))!);
    await expect(rt.ask(d, 'askHelp', 1)).rejects.toMatchObject({ code: 'ERR_ACTOR_CRASHED', cause: { code: 'ERR_NO_ROUTE' } });
  });

  it('bad routes are named errors at the call site', async () => {
    const rt = await startRuntime({ workers });
    expect(() => rt.tell({ capability: '' } as never, 'x')).toThrow(InvalidRouteError);
    expect(() => rt.ask({ capability: 'a', colour: 'red' } as never, 'x')).toThrow(InvalidRouteError);
    expect(() => rt.router({ capability: [] as string[] })).toThrow(InvalidRouteError);
    await expect(rt.spawn(helper, { capabilities: [''] })).rejects.toMatchObject({ code: 'ERR_INVALID_SPAWN_OPTION' });
  });

  it('a validation error from the target is not retried elsewhere', async () => {
    const rt = await startRuntime({ workers });
    await rt.spawn(helper, { id: 'one' });
    await rt.spawn(helper, { id: 'two' });
    await expect(rt.ask({ capability: 'help' }, 'nonsense' as never)).rejects.toBeInstanceOf(UnknownMessageTypeError);
  });

  it('a crash is retried on another capable actor; when every attempt fails the error lists them', async () => {
    const rt = await startRuntime({ workers });
    await rt.spawn(helper, { id: 'x1' });
    await rt.spawn(helper, { id: 'x2' });
    const err = await rt.ask({ capability: 'help' }, 'fail', 'always').catch((e) => e);
    expect(err.code).toBe('ERR_ROUTING_FAILED');
    expect(err.details.attempts.map((a: { target: string }) => a.target).sort()).toEqual(expect.arrayContaining(['x1', 'x2']));
    expect(err.details.attempts.every((a: { code: string }) => a.code === 'ERR_ACTOR_CRASHED')).toBe(true);
  });

  it('actors leave the table when they stop for good', async () => {
    const rt = await startRuntime({ workers });
    const a = await rt.spawn(helper, { id: 'leaving' });
    expect(rt.capabilities('help').length).toBe(1);
    await rt.stop(a);
    await eventually(() => rt.capabilities('help').length === 0);
    await expect(rt.ask({ capability: 'help' }, 'quick', 1)).rejects.toBeInstanceOf(NoRouteError);
  });
});

describe.each([0, 2])('routing and supervision with %i workers', (workers) => {
  it('an open circuit is skipped, visible as such, and its actor rejoins after its trial', async () => {
    const rt = await startRuntime({ workers });
    const tree = await rt.supervise({
      id: 'pool', strategy: 'one-for-one', intensity: { maxRestarts: 0, withinMs: 60_000 }, onExhausted: 'open-circuit',
      circuit: { resetMs: 300, maxResetMs: 300, multiplier: 1 },
      children: [{ id: 's1', actor: helper }, { id: 's2', actor: helper }, { id: 's3', actor: helper }],
    });
    const s1 = tree.ref<typeof helper>('s1')!;
    await rt.ask(s1, 'fail', 'broken').catch(() => {});
    await eventually(() => rt.capabilities('help').find((m) => m.id === 's1')?.health === 'open');
    // Every routed ask goes to the other two while s1's circuit is open: none fails.
    const by = new Set<string>();
    for (let i = 0; i < 30; i++) by.add((await rt.ask({ capability: 'help' }, 'quick', i)).by);
    expect([...by].sort()).toEqual(['s2', 's3']);
    // After the reset time it is half-open: one routed ask is its trial, and success closes the circuit.
    await eventually(() => rt.capabilities('help').find((m) => m.id === 's1')?.health === 'half-open');
    for (let i = 0; i < 30 && !by.has('s1'); i++) by.add((await rt.ask({ capability: 'help' }, 'quick', i)).by);
    expect(by.has('s1')).toBe(true);
    await eventually(() => rt.capabilities('help').find((m) => m.id === 's1')?.health === 'healthy');
  });

  it('a routed ask whose target crashes mid-route is retried on another; the crashed one is restarted in place', async () => {
    const rt = await startRuntime({ workers });
    await rt.supervise({
      id: 'team', strategy: 'one-for-one', intensity: { maxRestarts: 100, withinMs: 1000 },
      children: [{ id: 'ok', actor: helper }, { id: 'bad', actor: helper, args: { failEvery: 1 } }],
    });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => rt.ask({ capability: 'help' }, 'work', i)));
    expect(results.every((r) => r.by === 'ok')).toBe(true);
    expect(rt.crashes().length).toBeGreaterThan(0);
  });
});

describe('routing while a worker thread is lost', () => {
  it('no routed ask is left hanging: those on the lost thread are retried on the survivors, then traffic spreads again', async () => {
    const rt = await startRuntime({ workers: 2 });
    await rt.supervise({
      id: 'spread', strategy: 'one-for-one', intensity: { maxRestarts: 10, withinMs: 1000 },
      children: [
        { id: 'w1a', actor: helper, args: { slowMs: 2 }, pin: 1 }, { id: 'w1b', actor: helper, args: { slowMs: 2 }, pin: 1 },
        { id: 'w2a', actor: helper, args: { slowMs: 2 }, pin: 2 }, { id: 'w2b', actor: helper, args: { slowMs: 2 }, pin: 2 },
      ],
    });
    const killer = await rt.spawn(recorder, { pin: 1 });
    const inFlight = Array.from({ length: 400 }, (_, i) => rt.ask({ capability: 'help' }, 'work', i, { timeoutMs: 10_000 }));
    await Promise.all(inFlight.slice(0, 10)); // traffic flows...
    rt.tell(killer, 'die'); // ...when thread 1 dies
    const settled = await Promise.allSettled(inFlight);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    await eventually(() => rt.crashes().length === 2); // w1a and w1b, lost with their thread
    expect(rt.crashes().map((c) => c.messageType)).toEqual(['$exit', '$exit']);
    // The lost thread's actors are restarted there and take routed traffic again.
    await eventually(() => rt.capabilities('help').every((m) => m.health === 'healthy'));
    const by = new Set<string>();
    for (let i = 0; i < 200 && by.size < 4; i++) by.add((await rt.ask({ capability: 'help' }, 'quick', i)).by);
    expect(by.size).toBe(4);
  });
});

describe('routed sends to durable actors', () => {
  it('a routed send is journaled once: a retry with the same message id is recognised by the actor that has it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { durableCounter } = await import('../fixtures/durable.ts');
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-routed-'));
    try {
      const rt = await startRuntime({ workers: 2, dataDir });
      const a = await rt.spawn(durableCounter, { id: 'ledger-a', capabilities: ['ledger'] });
      const b = await rt.spawn(durableCounter, { id: 'ledger-b', capabilities: ['ledger'] });
      const keyed = { capability: 'ledger', key: 'account-7' };
      const first = await rt.send(keyed, 'inc', undefined, { messageId: 'deposit-1' });
      const retry = await rt.send(keyed, 'inc', undefined, { messageId: 'deposit-1' });
      expect(first).toEqual({ messageId: 'deposit-1', duplicate: false });
      expect(retry).toEqual({ messageId: 'deposit-1', duplicate: true });
      // Without an id, a routed send gets one id for all its attempts (returned in the receipt).
      const generated = await rt.send({ capability: 'ledger' }, 'inc');
      expect(generated.messageId).toMatch(/^r/);
      expect((await rt.ask(a, 'get')) + (await rt.ask(b, 'get'))).toBe(2);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('router edge cases (review)', () => {
  it('a half-open actor whose trial failed gets a trial again in its next half-open period, even if nothing was routed meanwhile', async () => {
    const rt = await startRuntime({ workers: 0 });
    await rt.supervise({
      id: 'solo', strategy: 'one-for-one', intensity: { maxRestarts: 0, withinMs: 60_000 }, onExhausted: 'open-circuit',
      circuit: { resetMs: 50, maxResetMs: 50, multiplier: 1 }, children: [{ id: 'only', actor: helper }],
    });
    await rt.ask({ capability: 'help' }, 'fail', 'first crash').catch(() => {});
    await eventually(() => rt.capabilities('help')[0]?.health === 'half-open');
    rt.tell({ capability: 'help' }, 'fail', 'the trial fails too'); // a tell is the trial: nobody else can take it
    await eventually(() => rt.capabilities('help')[0]?.health === 'open');
    await eventually(() => rt.capabilities('help')[0]?.health === 'half-open');
    expect((await rt.ask({ capability: 'help' }, 'quick', 1)).by).toBe('only'); // its second trial, which succeeds
  });

  it('a plain route object changed between messages is routed by what it says now', async () => {
    const rt = await startRuntime({ workers: 0 });
    await rt.spawn(helper, { id: 'p1' });
    await rt.spawn(helper, { id: 'p2', capabilities: ['special'] });
    const r: { capability: string } = { capability: 'help' };
    await rt.ask(r, 'quick', 1);
    r.capability = 'special';
    for (let i = 0; i < 5; i++) expect((await rt.ask(r, 'quick', i)).by).toBe('p2');
  });

  it("a routed ask's timeout bounds all its attempts together", async () => {
    const rt = await startRuntime({ workers: 0 });
    for (let i = 0; i < 3; i++) await rt.spawn(helper, { id: `slow-${i}`, args: { slowMs: 300 } });
    const err = await rt.ask({ capability: 'help' }, 'work', 1, { timeoutMs: 100 }).catch((e) => e);
    expect(err.code).toBe('ERR_ROUTING_FAILED');
    expect(err.details.attempts).toEqual([expect.objectContaining({ code: 'ERR_ASK_TIMEOUT' })]); // no time left for another
  });

  it('stopping a pool while it grows leaves no member behind', async () => {
    const rt = await startRuntime({ workers: 0 });
    const pool = await rt.pool(helper, { id: 'brief', min: 1, max: 4, scale: false });
    const growing = pool.resize(4);
    await pool.stop();
    await growing;
    await eventually(() => rt.capabilities('pool:brief').length === 0);
  });
});

describe('strategies given by the user', () => {
  it("a route's own strategy function chooses; one that throws or picks a non-candidate fails that message only", async () => {
    const rt = await startRuntime({ workers: 0 });
    await rt.spawn(helper, { id: 'u1' });
    await rt.spawn(helper, { id: 'u2' });
    const last = Object.freeze({ capability: 'help', strategy: (cs: readonly { id: string }[]) => [...cs].sort((a, b) => (a.id < b.id ? 1 : -1))[0] });
    for (let i = 0; i < 5; i++) expect((await rt.ask(last, 'quick', i)).by).toBe('u2');
    const throws = { capability: 'help', strategy: () => { throw new Error('no idea'); } };
    await expect(rt.ask(throws, 'quick', 1)).rejects.toBeInstanceOf(InvalidStrategyChoiceError);
    const stranger = { capability: 'help', strategy: () => ({ id: 'u1' }) }; // looks like one, is not one of them
    expect(() => rt.tell(stranger, 'quick', 1)).toThrow(InvalidStrategyChoiceError);
    expect(() => rt.ask({ capability: 'help', strategy: 'fastest' }, 'quick', 1)).toThrow(UnknownStrategyError);
    expect((await rt.ask({ capability: 'help' }, 'quick', 2)).n).toBe(2); // the runtime keeps running
  });
});
