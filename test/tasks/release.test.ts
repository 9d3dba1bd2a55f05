// Graph actors let go once they are no longer needed: a finished journal graph's actor is stopped (and what its
// thread kept of it, the live index holding the whole graph, is gone), started again from its record when a handle
// asks; `release()` stops any graph's actor, deletes a durable graph's record and forgets the graph. The graphs run
// on the main thread (pin 0), whose live indexes the test counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { ActorStore } from '../../persistence/store.ts';
import { GraphNotFoundError, graphActorId, TaskManager, type TaskSpec } from '../../tasks/index.ts';
import { liveGraphCount } from '../../tasks/actor/live.ts';
import { gatedWorker, gates, liveProbe, taskWorker } from '../fixtures/tasks/workers.ts';
import { until as waitFor } from '../ops-proof/support/ports.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

const specs: TaskSpec[] = [
  { id: 'a', type: 'work', capability: 'work' },
  { id: 'b', type: 'work', capability: 'work', dependsOn: ['a'] },
];

/** The shared wait (test/ops-proof/support/ports.ts), polled every 5 ms. */
const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  await waitFor('a condition of this test', async () => (await cond()) || undefined, ms, 5);
};

describe('graph actors are released', () => {
  let rt: Runtime, tasks: TaskManager, dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-release-'));
    rt = await Runtime.start({ workers: 0, dataDir: dir, stallMs: 0, spareWorker: false });
    await rt.spawn(taskWorker, { id: 'w' });
    tasks = await TaskManager.start(rt, { pin: 0 });
  });
  afterAll(async () => {
    await rt?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a finished journal graph: its actor stops and lets go of its live index; asked again, it answers from its record', async () => {
    const before = liveGraphCount();
    const g = await tasks.submit({ id: 'journal-done', tasks: specs, durability: 'journal' });
    expect((await g.done()).status).toBe('completed');
    await until(async () => (await rt.lookup(graphActorId('journal-done'))) === undefined);
    expect(liveGraphCount()).toBe(before);
    expect(await g.progress()).toMatchObject({ status: 'completed', completed: 2 });
    expect((await g.result('b')).result).toMatchObject({ task: 'b' });
    expect((await tasks.graphs())['journal-done']).toMatchObject({ finished: true });
  });

  it("a cancelled task's late outcome, after its graph finished and stopped, holds back no outcome of tasks added later", async () => {
    const gated = await rt.spawn(gatedWorker, { id: 'gated' });
    const g = await tasks.submit({ id: 'late', tasks: [{ id: 'slow', type: 'work', capability: 'gated' }] });
    await until(() => gates.has('slow'));
    await g.cancel('slow');
    expect((await g.done()).progress).toMatchObject({ cancelled: 1, running: 0 });
    await until(async () => (await rt.lookup(graphActorId('late'))) === undefined);
    gates.get('slow')!(); // the late result, for an actor that is gone
    await rt.ask(gated, 'ping'); // answered once the late result went out
    await g.add([{ id: 'next', type: 'work', capability: 'work' }]);
    expect((await g.done()).progress).toMatchObject({ completed: 1, cancelled: 1 });
    await until(async () => (await rt.lookup(graphActorId('late'))) === undefined); // (stopped again)
  });

  it('release(): an in-memory graph (kept after done) is stopped and forgotten', async () => {
    const before = liveGraphCount();
    const g = await tasks.submit({ id: 'in-memory', tasks: specs, durable: false });
    expect((await g.done()).status).toBe('completed');
    // Its results live only in its actor: kept until released.
    expect(await rt.lookup(graphActorId('in-memory'))).toBeDefined();
    expect(liveGraphCount()).toBe(before + 1);
    expect((await g.result('a')).status).toBe('completed');
    await g.release();
    expect(await rt.lookup(graphActorId('in-memory'))).toBeUndefined();
    expect(liveGraphCount()).toBe(before);
    expect((await tasks.graphs())['in-memory']).toBeUndefined();
    await expect(g.progress()).rejects.toBeInstanceOf(GraphNotFoundError);
  });

  it('release(): a durable graph is stopped and forgotten (not resumed, not listed)', async () => {
    const g = await tasks.submit({ id: 'durable-released', tasks: [{ id: 'slow', type: 'work', capability: 'work', payload: { ms: 60_000 } }] });
    await g.release();
    expect(await rt.lookup(graphActorId('durable-released'))).toBeUndefined();
    expect((await tasks.graphs())['durable-released']).toBeUndefined();
    await expect(g.progress()).rejects.toBeInstanceOf(GraphNotFoundError);
  });
});

describe('graph actors on a worker thread are released', () => {
  it('a finished journal graph there lets go of its live index before it stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-release-'));
    const rt = await Runtime.start({ workers: 1, dataDir: dir, stallMs: 0, spareWorker: false });
    try {
      await rt.spawn(taskWorker, { id: 'w', pin: 1 });
      const probe = await rt.spawn(liveProbe, { id: 'probe', pin: 1 });
      const tasks = await TaskManager.start(rt, { pin: 1 });
      const before = (await rt.ask(probe, 'liveGraphs')) as number;
      const g = await tasks.submit({ id: 'on-worker', tasks: specs });
      expect(g.ref.node).toBe(1);
      expect((await g.done()).status).toBe('completed');
      await until(async () => (await rt.lookup(graphActorId('on-worker'))) === undefined);
      expect(await rt.ask(probe, 'liveGraphs')).toBe(before);
      expect(await g.progress()).toMatchObject({ status: 'completed', completed: 2 });
    } finally {
      await rt.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Whatever the store keeps of actor `id`, by kind of record (empty: nothing left). */
function storedOf(store: ActorStore, id: string): string[] {
  const kept: string[] = [];
  if (store.readSnapshot(id) !== undefined) kept.push('snapshot');
  if (store.snapshotHistory(id).length > 0) kept.push('history');
  if (store.journalEntries(id).length > 0) kept.push('journal');
  if (store.rememberedIds(id).length > 0) kept.push('message ids');
  if (store.poisonMessages(id).length > 0) kept.push('poison');
  if (store.deliveryRecord(id) !== undefined) kept.push('deliveries');
  return kept;
}

describe("release() deletes a durable graph's records", () => {
  it('reopened, the store keeps nothing of released graphs (journal, snapshot, finished or not); the others resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-release-'));
    // (A gated worker answers one message at a time: one per graph.)
    const slow = (id: string): TaskSpec[] => [{ id: `${id}-a`, type: 'work', target: `gated-${id}` }, { id: `${id}-b`, type: 'work', target: `gated-${id}`, dependsOn: [`${id}-a`] }];
    const workers = async (rt: Runtime) => {
      for (const id of ['kept', 'running', 'snap']) await rt.spawn(gatedWorker, { id: `gated-${id}` });
      await rt.spawn(taskWorker, { id: 'w' });
    };
    try {
      let rt = await Runtime.start({ workers: 0, dataDir: dir, stallMs: 0, spareWorker: false });
      await workers(rt);
      let tasks = await TaskManager.start(rt, { pin: 0 });
      const kept = await tasks.submit({ id: 'kept', tasks: slow('kept') });
      const running = await tasks.submit({ id: 'running', tasks: slow('running') });
      const snap = await tasks.submit({ id: 'snap', tasks: slow('snap'), durability: 'snapshot' });
      const finished = await tasks.submit({ id: 'finished', tasks: specs });
      expect((await finished.done()).status).toBe('completed');
      await until(() => gates.has('kept-a') && gates.has('running-a') && gates.has('snap-a'));
      gates.get('running-a')!(); // an outcome journaled, a second task running
      await until(() => gates.has('running-b'));
      const store = (rt as unknown as { host: { store(): ActorStore } }).host.store();
      // (Read through this thread's handle: a read may see the store as of the last event-loop turn, so each is
      // waited for; seen once under load, with the shared handle per thread, id unknown.)
      for (const id of ['kept', 'running', 'snap', 'finished']) {
        await until(() => storedOf(store, graphActorId(id)).length > 0).catch(() => {
          throw new Error(`nothing stored of graph '${id}' before its release`);
        });
      }
      await expect(rt.deleteStoredActor(graphActorId('kept'))).rejects.toMatchObject({ code: 'ERR_ACTOR_RUNNING' }); // (running)
      await Promise.all([running.release(), snap.release(), finished.release()]);
      for (const g of [running, snap, finished]) await expect(g.progress()).rejects.toBeInstanceOf(GraphNotFoundError);
      await rt.shutdown();
      gates.clear();

      const reopened = ActorStore.open(dir);
      try {
        for (const id of ['running', 'snap', 'finished']) expect(storedOf(reopened, graphActorId(id))).toEqual([]);
        expect(storedOf(reopened, graphActorId('kept'))).toContain('snapshot');
      } finally {
        await reopened.close();
      }

      rt = await Runtime.start({ workers: 0, dataDir: dir, stallMs: 0, spareWorker: false });
      try {
        await workers(rt);
        tasks = await TaskManager.start(rt, { pin: 0 });
        expect(Object.keys(await tasks.graphs())).toEqual(['kept']);
        for (const id of ['running', 'snap', 'finished']) expect(await rt.lookup(graphActorId(id))).toBeUndefined();
        // The unreleased graph resumed: its running task is sent again, and it completes.
        await until(() => gates.has('kept-a'));
        gates.get('kept-a')!();
        await until(() => gates.has('kept-b'));
        gates.get('kept-b')!();
        expect((await (await tasks.graph('kept')).done()).progress).toMatchObject({ completed: 2, total: 2 });
        // A released graph's id is free again.
        const again = await tasks.submit({ id: 'finished', tasks: specs });
        expect((await again.done()).progress).toMatchObject({ completed: 2, total: 2 });
      } finally {
        await rt.shutdown();
        gates.clear();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
