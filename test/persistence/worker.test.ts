// Snapshots written from real worker threads, into an environment the main thread holds open the whole time,
// are read back by the main thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openStore, snap } from './helpers.ts';

function runWriter(data: Record<string, unknown>): Promise<{ seq?: number }> {
  const worker = new Worker(new URL('./fixtures/snapshot-writer.mjs', import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before replying`)));
  }).finally(() => worker.terminate()) as Promise<{ seq?: number }>;
}

describe('worker threads', () => {
  it('reads a snapshot a worker wrote with raw lmdb in the same layout', async () => {
    const { store, dir } = openStore();
    await store.writeSnapshot('main', snap(1, 'main'));
    const s = snap(5, { from: 'raw worker', list: [1, 2, 3] });
    await runWriter({ dir, mode: 'raw', actorId: 'w', snapshot: s });
    expect(store.readSnapshot('w')).toEqual(s);
    expect(store.readSnapshot('main')?.state).toBe('main');
  });

  it('reads what two workers wrote through ActorStore concurrently, while the main store stays open', async () => {
    const { store, dir } = openStore();
    await store.appendJournal('w0', 1, { id: 'from-main', type: 'note', payload: null }, true).done;
    const [r0, r1] = await Promise.all(
      [0, 1].map((i) => runWriter({ dir, mode: 'store', actorId: `w${i}`, snapshot: snap(7, { worker: i }) })),
    );
    expect(store.readSnapshot('w0')).toEqual(snap(7, { worker: 0 }));
    expect(store.readSnapshot('w1')).toEqual(snap(7, { worker: 1 }));
    // The worker's snapshot at 7 removed the main thread's entry 1 (it covers it); its own entry 8 is pending, and
    // both ids are remembered.
    expect([r0.seq, r1.seq]).toEqual([8, 8]);
    expect(store.journalEntries('w0').map((e) => [e.seq, e.id])).toEqual([[8, 'from-worker']]);
    expect(store.journalSegments('w0').map((seg) => seg.first)).toEqual([8]);
    expect(store.rememberedIds('w0')).toEqual([{ id: 'from-main', seq: 1 }, { id: 'from-worker', seq: 8 }]);
    expect(store.rememberedIds('w1')).toEqual([{ id: 'from-worker', seq: 8 }]);
    // The main thread's store still writes after the workers closed their handles on the shared environment.
    await store.writeSnapshot('main', snap(1, 'still open'));
    expect(store.readSnapshot('main')?.state).toBe('still open');
  });
});
