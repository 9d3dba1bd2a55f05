import { describe, expect, it } from 'vitest';
import '../../router/index.ts';
import { startRuntime, eventually } from '../kernel/helpers.ts';
import { helper } from '../fixtures/routed.ts';

describe('pools', () => {
  it('keep min members spread over the workers, grow under backlog, shrink back when idle, and route to members', async () => {
    const rt = await startRuntime({ workers: 2 });
    const pool = await rt.pool(helper, {
      id: 'crew', min: 2, max: 4, args: { slowMs: 20 },
      sampleEveryMs: 50, scale: { backlogPerInstance: 2, growAfterMs: 100, idleAfterMs: 300, growCooldownMs: 100, shrinkCooldownMs: 100 },
    });
    expect(pool.memberIds()).toEqual(['crew-1', 'crew-2']);
    expect(new Set(rt.capabilities('pool:crew').map((m) => m.node))).toEqual(new Set([1, 2]));
    const work = Array.from({ length: 120 }, (_, i) => rt.ask(pool.route, 'work', i, { timeoutMs: 20_000 }));
    await eventually(() => pool.size === 4, 10_000);
    // Work routed from now on goes to the new members too (least loaded: the old ones have asks in flight).
    const later = await Promise.all(Array.from({ length: 8 }, (_, i) => rt.ask(pool.route, 'work', i, { timeoutMs: 20_000 })));
    expect(later.some((r) => r.by === 'crew-3' || r.by === 'crew-4')).toBe(true);
    await Promise.all(work);
    await eventually(() => pool.size === 2, 10_000);
    await eventually(() => rt.capabilities('pool:crew').length === 2); // a stopped member leaves once it is gone
    // Members are supervised: a crash restarts the member in place.
    await rt.ask({ capability: 'pool:crew' }, 'fail', 'oops').catch(() => {});
    expect(rt.crashes().length).toBeGreaterThan(0);
    await pool.stop();
    await eventually(() => rt.capabilities('pool:crew').length === 0);
  });

  it('bad pool options are named errors at the call site', async () => {
    const rt = await startRuntime({ workers: 0 });
    await expect(rt.pool(helper, { min: 3, max: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_POOL_OPTION' });
    await expect(rt.pool(helper, { min: -1, max: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_POOL_OPTION' });
  });
});

describe('pool shrinking', () => {
  it('takes the member out of routing first and stops it once its mailbox is empty: nothing routed to it is dead-lettered', async () => {
    const rt = await startRuntime({ workers: 2 });
    const pool = await rt.pool(helper, { id: 'ebb', min: 1, max: 2, scale: false, args: { slowMs: 10 } });
    await pool.resize(2);
    for (let i = 0; i < 40; i++) rt.tell(pool.route, 'work', i);
    const shrinking = pool.resize(1);
    await eventually(() => rt.capabilities('pool:ebb').some((m) => m.health === 'draining'));
    await shrinking;
    expect(pool.size).toBe(1);
    const stats = await rt.stats();
    expect(stats.deadLetters.stopped ?? 0).toBe(0);
    expect(await rt.ask(pool.route, 'handled')).toBeGreaterThan(0);
  });
});
