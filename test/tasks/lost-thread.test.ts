// A graph whose worker thread is lost: its actor goes with the thread (graph actors are not supervised), and the
// manager starts it again from its record on the replacement thread, paused (dispatching nothing) until the outcomes
// journaled after its last snapshot are replayed and it is told 'resume'. Tasks completed before the loss are not
// sent again; the attempt that was running is, with the same message id. The workers run on the main thread (their
// gates are opened by the test), the graphs on worker thread 1, whose loss a recorder there causes ('die').
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, type ActorRef } from '../../runtime/index.ts';
import { graphActorId, TaskManager, type TaskMessage, type TaskSpec } from '../../tasks/index.ts';
import { taskGraph } from '../../tasks/actor/graph-actor.ts';
import { defineActor } from '../../runtime/index.ts';
import { recorder } from '../fixtures/kinds.ts';
import { until as waitFor } from '../ops-proof/support/ports.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

/** Answers a task only once the test opens its gate; every message id it was sent, in order. */
const opened = new Map<string, () => void>();
const sent: string[] = [];
export const gate = defineActor({
  kind: 'test-lost-thread-gate',
  capabilities: ['gate'],
  init: () => ({}),
  handlers: {
    work: (_s, msg: TaskMessage) => {
      sent.push(msg.messageId);
      return new Promise((resolve) => opened.set(msg.taskId, () => resolve(msg.taskId)));
    },
  },
});

const chain: TaskSpec[] = [
  { id: 'a', type: 'work', capability: 'gate' },
  { id: 'b', type: 'work', capability: 'gate', dependsOn: ['a'] },
  { id: 'c', type: 'work', capability: 'gate', dependsOn: ['b'] },
];

/** The shared wait (test/ops-proof/support/ports.ts), polled every 5 ms. */
const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  await waitFor('a condition of this test', async () => (await cond()) || undefined, ms, 5);
};

/** Open the gate of `taskId` once it is sent. */
async function open(taskId: string): Promise<void> {
  await until(() => opened.has(taskId));
  const release = opened.get(taskId)!;
  opened.delete(taskId);
  release();
}

/** Lose worker thread 1 (a recorder there exits its thread) and wait until the replacement thread takes spawns. */
async function loseThread(rt: Runtime): Promise<void> {
  const killer = (await rt.spawn(recorder, { pin: 1 })) as ActorRef;
  rt.tell(killer, 'die');
  await until(async () => (await rt.lookup(killer.id)) === undefined);
  await until(async () => {
    const probe = await rt.spawn(recorder, { pin: 1 }).catch(() => undefined);
    if (probe !== undefined) await rt.stop(probe);
    return probe !== undefined;
  });
}

/** The graph's actor as it is now, once it runs on thread 1. */
async function onThread1(rt: Runtime, graphId: string): Promise<ActorRef> {
  let ref: ActorRef | undefined;
  await until(async () => (ref = await rt.lookup(graphActorId(graphId)))?.node === 1);
  return ref!;
}

const start = (dataDir: string) => Runtime.start({ workers: 1, dataDir, stallMs: 0 });

describe('a graph on a lost worker thread', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    opened.clear();
    sent.length = 0;
  });

  it('lost while running: started again from its record by the manager; done() resolves; a is not sent again, b is, with its message id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-lost-'));
    dirs.push(dir);
    const rt = await start(dir);
    try {
      await rt.spawn(gate, { id: 'gate', pin: 0 });
      const tasks = await TaskManager.start(rt, { pin: 1 });
      const g = await tasks.submit({ id: 'running', tasks: chain });
      expect(g.ref.node).toBe(1);
      const done = g.done();
      await open('a');
      await until(() => opened.has('b'));
      await loseThread(rt);
      await onThread1(rt, 'running');
      // b's first attempt is answered after the loss: to an actor that is gone (dropped), and sent again.
      await open('b');
      await open('b');
      await open('c');
      const summary = await done;
      expect(summary.progress).toMatchObject({ completed: 3, total: 3 });
      expect(sent.filter((id) => id.endsWith('/a/1'))).toHaveLength(1);
      expect(sent.filter((id) => id === 'running/b/1')).toHaveLength(2); // the same message id
    } finally {
      await rt.shutdown();
    }
  });

  it('lost while paused (started from its record, not yet resumed): started again paused; resumed, it goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-lost-'));
    dirs.push(dir);
    let rt = await start(dir);
    await rt.spawn(gate, { id: 'gate', pin: 0 });
    let tasks = await TaskManager.start(rt, { pin: 1 });
    await tasks.submit({ id: 'paused', tasks: chain });
    await open('a');
    await until(() => opened.has('b'));
    await rt.shutdown(); // b running: its attempt is in the record as the ready task it was
    opened.clear();
    sent.length = 0;

    rt = await start(dir);
    try {
      await rt.spawn(gate, { id: 'gate', pin: 0 });
      // What the manager's start does before it says 'resume': the graph's actor from its record, paused.
      const first = await rt.spawn(taskGraph, { id: graphActorId('paused'), pin: 1 });
      expect(await rt.ask(first, 'progress', undefined)).toMatchObject({ completed: 1, running: 0, ready: 1 });
      await loseThread(rt);
      expect(await rt.lookup(graphActorId('paused'))).toBeUndefined(); // (gone with its thread)
      // Started again from its record on the new thread: paused, it answers and sends nothing.
      const again = await rt.spawn(taskGraph, { id: graphActorId('paused'), pin: 1 });
      expect(await rt.ask(again, 'progress', undefined)).toMatchObject({ completed: 1, running: 0, ready: 1 });
      expect(await rt.ask(again, 'summary', undefined)).toMatchObject({ status: 'running' });
      expect(sent).toEqual([]);
      tasks = await TaskManager.start(rt, { pin: 1 }); // says 'resume'
      const g = await tasks.graph('paused');
      await open('b');
      await open('c');
      expect((await g.done()).progress).toMatchObject({ completed: 3, total: 3 });
      expect(sent).toEqual(['paused/b/1', 'paused/c/1']); // a not again; b's attempt with its message id
    } finally {
      await rt.shutdown();
    }
  });
});
