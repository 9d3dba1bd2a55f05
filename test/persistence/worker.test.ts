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
    await store.appendJournal('w0', { id: 'from-main', type: 'note', payload: null });
    const [r0, r1] = await Promise.all(
      [0, 1].map((i) => runWriter({ dir, mode: 'store', actorId: `w${i}`, snapshot: snap(7, { worker: i }) })),
    );
    expect(store.readSnapshot('w0')).toEqual(snap(7, { worker: 0 }));
    expect(store.readSnapshot('w1')).toEqual(snap(7, { worker: 1 }));
    // Seqs are assigned inside the write transaction, after the worker's snapshot at 7 (which also covers the
    // main thread's entry 1: the snapshot claims 7 messages applied).
    expect(r0.seq).toBe(8);
    expect(r1.seq).toBe(8);
    expect(store.journalEntries('w0').map((e) => [e.seq, e.id])).toEqual([[8, 'from-worker']]);
    expect(store.seenMessage('w0', 'from-main')).toBe(true);
    // The main thread's store still writes after the workers closed their handles on the shared environment.
    await store.writeSnapshot('main', snap(1, 'still open'));
    expect(store.readSnapshot('main')?.state).toBe('still open');
  });
});
