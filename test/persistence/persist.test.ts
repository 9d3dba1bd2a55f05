// ActorPersistence (runtime/persist.ts) over a real store: the edge cases of sequence numbers, failed writes and
// the dedup window.
import { describe, expect, it } from 'vitest';
import type { ActorDefinition } from '../../actors/define.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { ActorPersistence } from '../../runtime/persist.ts';
import { DedupWindow } from '../../persistence/dedup-window.ts';
import { open } from 'lmdb';
import { ENV_OPTIONS } from '../../persistence/index.ts';
import { openStore } from './helpers.ts';

const clock = new ManualClock();
const def = (persistence: Record<string, unknown>) =>
  ({ kind: 'k', init: () => ({ n: 0 }), handlers: {}, module: 'test', persistence: { durableMailbox: true, ...persistence } }) as unknown as ActorDefinition;

describe('ActorPersistence', () => {
  it('never hands out a seq already used, even when a reset snapshot is behind the remembered ids', async () => {
    const { store, dir } = openStore();
    const d = def({ onBadSnapshot: 'reset' });
    const first = ActorPersistence.restore(store, 'a', d, undefined, clock).persistence;
    for (const id of ['A', 'B']) await first.append(id, 't', null, true).written;
    await first.handled(1, { n: 1 }, true);
    await first.handled(2, { n: 2 }, true);
    await first.flush();
    expect(store.journalEntries('a')).toEqual([]);
    // The snapshot turns out corrupt: reset to init (seq 0), but A (seq 1) and B (seq 2) are still remembered.
    const env = open({ path: dir, ...ENV_OPTIONS });
    await env.openDB('snapshots', { encoding: 'binary' }).put('a', Buffer.from([0xc1, 0xff]));
    await env.close();
    const again = ActorPersistence.restore(store, 'a', d, undefined, clock);
    expect(again.state).toEqual({ n: 0 });
    expect(again.persistence.append('C', 't', null, true).seq).toBe(3);
  });

  it('keeps the journal segments a failed snapshot would have removed, for the next snapshot to remove', async () => {
    const { store } = openStore();
    const p = ActorPersistence.restore(store, 'a', def({}), undefined, clock).persistence;
    await p.append('m1', 't', null, false).written;
    await expect(p.handled(1, { bad: Symbol('not encodable') }, true)).rejects.toMatchObject({ code: 'ERR_UNENCODABLE_VALUE' });
    expect(store.journalSegments('a')).toHaveLength(1);
    await p.append('m2', 't', null, false).written;
    await p.handled(2, { n: 2 }, true);
    await p.flush();
    expect(store.journalSegments('a').filter((s) => s.last <= 2).length).toBeLessThanOrEqual(1);
    expect(store.journalSegments('a').map((s) => s.first)).not.toContain(1);
    expect(store.readSnapshot('a')).toMatchObject({ seq: 2, state: { n: 2 } });
  });

  it('the dedup window: forget the oldest down to the window once it is exceeded by a quarter', () => {
    const w = new DedupWindow(8);
    expect([w.due(8), w.due(10), w.due(11)]).toEqual([false, false, true]);
    expect(w.evict([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])).toEqual([1, 2, 3]);
    expect(w.evict([1, 2])).toEqual([]);
  });

  it('remembers at least the last dedupWindow sender-given ids, in LMDB, not in memory', async () => {
    const { store } = openStore();
    const d = def({ dedupWindow: 40 });
    let p = ActorPersistence.restore(store, 'a', d, undefined, clock).persistence;
    const ids = Array.from({ length: 300 }, (_, i) => `id-${i}`);
    for (let i = 0; i < ids.length; i += 25) {
      // 25 per commit: evictions also hit ids whose commit is still in flight
      await Promise.all(ids.slice(i, i + 25).map((id) => p.append(id, 't', null, true).written));
    }
    const stored = store.rememberedIds('a').map((r) => r.id);
    expect(stored.length).toBeGreaterThanOrEqual(40);
    expect(stored.length).toBeLessThanOrEqual(50);
    expect(stored).toEqual(ids.slice(-stored.length)); // the newest ones, oldest first
    for (const id of ids.slice(-40)) expect(p.seen(id)).toBe(true);
    expect(p.seen('id-0')).toBe(false);
    // A new incarnation (or process) sees the same, from LMDB alone.
    p = ActorPersistence.restore(store, 'a', d, undefined, clock).persistence;
    for (const id of ids.slice(-40)) expect(p.seen(id)).toBe(true);
    expect(p.append('next', 't', null, true).seq).toBe(301);
  });
});
