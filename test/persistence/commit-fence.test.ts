// The commit fence (runtime/commit-fence.ts) and the decision shutdown makes with it (runtime/worker-shutdown.ts).
import { describe, expect, it } from 'vitest';
import { CommitFence } from '../../runtime/commit-fence.ts';
import { stopWorker } from '../../runtime/worker-shutdown.ts';
import { openStore, snap } from './helpers.ts';

const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {}, child: () => quiet } as never;
const never = new Promise<never>(() => {});

describe('CommitFence', () => {
  it('fences only with no commit in flight, and then lets none start', () => {
    const main = new CommitFence();
    const worker = new CommitFence(main.buffer); // the worker's view of the same memory
    expect(worker.enter()).toBe(true);
    expect(worker.enter()).toBe(true);
    expect(main.inFlight).toBe(2);
    expect(main.fence()).toBe(false);
    worker.exit();
    expect(main.fence()).toBe(false);
    worker.exit();
    expect(main.fence()).toBe(true);
    expect(main.fence()).toBe(true); // fenced stays fenced
    expect(main.inFlight).toBe(0);
    expect(worker.enter()).toBe(false);
  });

  it('as a store gate: a commit counts until durable; once fenced a write is refused with ERR_STORE_CLOSING, nothing written', async () => {
    const fence = new CommitFence();
    const { store } = openStore({ gate: fence });
    const written = store.writeSnapshot('a', snap(1, { n: 1 }));
    expect(fence.inFlight).toBe(1);
    await written;
    expect(fence.inFlight).toBe(0);
    expect(fence.fence()).toBe(true);
    await expect(store.writeSnapshot('a', snap(2, { n: 2 }))).rejects.toMatchObject({ code: 'ERR_STORE_CLOSING' });
    expect(store.readSnapshot('a')?.seq).toBe(1);
  });
});

describe('stopWorker: when shutdown may terminate a worker', () => {
  const base = { node: 1, exited: () => false, log: quiet, confirmMs: 0 };

  it('one that confirms: confirmed', async () => {
    expect(await stopWorker({ ...base, confirmMs: 60_000, confirmed: Promise.resolve(), fence: new CommitFence() })).toBe('confirmed');
  });

  it('one that does not confirm, with no commit in flight: fenced at once, nobody told of a wait', async () => {
    const told: number[] = [];
    const fence = new CommitFence();
    expect(await stopWorker({ ...base, confirmed: never, fence, waiting: (n) => told.push(n) })).toBe('fenced');
    expect(told).toEqual([]);
    expect(new CommitFence(fence.buffer).enter()).toBe(false);
  });

  it('one with a commit in flight: waited for until the commit is over, then fenced', async () => {
    const fence = new CommitFence();
    const worker = new CommitFence(fence.buffer);
    worker.enter();
    const told: Array<[number, number]> = [];
    const outcome = await stopWorker({ ...base, confirmed: never, fence, waiting: (node, commits) => {
      told.push([node, commits]);
      queueMicrotask(() => worker.exit()); // the commit ends after the wait began
    } });
    expect(outcome).toBe('fenced');
    expect(told).toEqual([[1, 1]]);
  });

  it('one whose commit never ends: given up after commitsMs, reported as in-flight; one whose thread died: at once', async () => {
    const fence = new CommitFence();
    new CommitFence(fence.buffer).enter();
    expect(await stopWorker({ ...base, confirmed: never, fence, commitsMs: 30 })).toBe('in-flight');
    expect(await stopWorker({ ...base, confirmed: never, fence, exited: () => true })).toBe('in-flight');
  });
});
