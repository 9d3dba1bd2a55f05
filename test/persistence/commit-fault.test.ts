// The store's CommitFault seam (persistence/group-commit.ts), on real LMDB: a refused commit fails its whole batch
// and applies none of it; a vanished one never settles, applies nothing, and holds up neither settled() nor close().
import { describe, expect, it } from 'vitest';
import { ActorStore } from '../../persistence/index.ts';
import { openStore, snap, tempDir } from './helpers.ts';

describe('ActorStore commitFault', () => {
  it('an Error fails every write of that commit, applies none of it; the next commit goes on', async () => {
    const batches: number[] = [];
    const { store } = openStore({ commitFault: (n) => (batches.push(n), n === 2 ? new Error('disk full') : undefined) });
    await store.appendJournal('a', 1, { id: 'm1', type: 't', payload: 1 }, true).done;
    const failed = [store.appendJournal('a', 2, { id: 'm2', type: 't', payload: 2 }, true).done, store.writeSnapshot('a', snap(2, 'x'), { removeSegments: [1] }), store.recordDelivery('a', { seq: 1, attempts: 1 })];
    expect((await Promise.allSettled(failed)).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['disk full', 'disk full', 'disk full']);
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([1]);
    expect(store.readSnapshot('a')).toBeUndefined();
    expect(store.deliveryRecord('a')).toBeUndefined();
    expect(store.rememberedIds('a')).toEqual([{ id: 'm1', seq: 1 }]);
    await store.appendJournal('a', 3, { id: 'm3', type: 't', payload: 3 }).done;
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([1, 3]);
    expect(batches).toEqual([1, 2, 3]);
  });

  it("'vanish' leaves the commit's writes pending forever and applies nothing; settled() and close() do not wait for it", async () => {
    const dir = tempDir();
    const store = ActorStore.open(dir, { commitFault: (n) => (n === 2 ? 'vanish' : undefined) });
    await store.appendJournal('a', 1, { id: 'm1', type: 't', payload: 1 }).done;
    let settled = false;
    void store.appendJournal('a', 2, { id: 'm2', type: 't', payload: 2 }).done.then(() => (settled = true), () => (settled = true));
    await store.settled();
    await store.close();
    expect(settled).toBe(false);
    const again = ActorStore.open(dir);
    expect(again.journalEntries('a').map((e) => e.seq)).toEqual([1]);
    await again.close();
  });
});
