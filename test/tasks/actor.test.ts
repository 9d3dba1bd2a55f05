// Task graphs on real worker threads (and real LMDB for the durable ones): dependency order, results passed to
// dependents, retries then permanent failure under both policies, a cycle resolved, cancellation, events, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type ActorRef } from '../../runtime/index.ts';
import { TaskManager, DuplicateTaskIdError, InvalidPriorityError, UnknownCapabilityError, UnknownDependencyError, TaskPayloadNotStorableError, InvalidGraphOptionError, TaskNotFoundError } from '../../tasks/index.ts';
import type { TaskEvent, TaskSpec } from '../../tasks/index.ts';
import { taskWorker } from '../fixtures/tasks/workers.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

const w = (id: string, dependsOn: string[] = [], extra: Partial<TaskSpec> = {}): TaskSpec => ({ id, type: 'work', capability: 'work', dependsOn, ...extra });

describe.each([true, false])('task graphs (durable: %s) on worker threads', (durable) => {
  // One runtime for the block (a worker boot costs seconds on a loaded host); graph ids differ per test.
  let env: { rt: Runtime; refs: ActorRef<typeof taskWorker>[]; tasks: TaskManager; dir: string };
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-'));
    const rt = await Runtime.start({ workers: 2, ...(durable ? { dataDir: dir } : {}), stallMs: 0 });
    const refs = [await rt.spawn(taskWorker, { id: 'w1' }), await rt.spawn(taskWorker, { id: 'w2' })];
    env = { rt, refs, tasks: await TaskManager.start(rt, { durable }), dir };
  });
  afterAll(async () => {
    await env?.rt.shutdown();
    if (env) rmSync(env.dir, { recursive: true, force: true });
  });
  const setup = async () => env;
  it('a DAG completes in dependency order, results passed to dependents, events for every transition', async () => {
    const { rt, refs, tasks } = await setup();
    const g = await tasks.submit({
      id: 'dag',
      // d takes time too: a zero-length last task ties [a, b] with [a, b, d], and the critical path may stop at b.
      tasks: [w('a', [], { payload: { ms: 20 } }), w('b', ['a']), w('c', ['a'], { priority: 'critical' }), w('e')],
    });
    const events: TaskEvent[] = [];
    await g.on((e) => events.push(e));
    // d joins once the follower is subscribed: the graph may be done with the rest before that (no fixed wait).
    await g.add([w('d', ['b', 'c'], { payload: { ms: 5 } })]);
    const summary = await g.done();
    expect(summary.status).toBe('completed');
    expect(summary.progress).toMatchObject({ total: 5, completed: 5 });
    const d = await g.result('d');
    expect(d).toMatchObject({ status: 'completed', attempts: 1, result: { task: 'd', messageId: 'dag/d/1' } });
    expect(Object.keys((d.result as { deps: object }).deps).sort()).toEqual(['b', 'c']);
    expect((d.result as { deps: Record<string, { task: string }> }).deps.b.task).toBe('b');
    // Each worker handles one message at a time; across both, no task ran before its dependencies.
    const outcomes = await g.outcomes();
    const ended = new Map(outcomes.map((o) => [o.id, o]));
    expect([...ended.values()].every((o) => o.status === 'completed')).toBe(true);
    const ran = [...(await rt.ask(refs[0], 'ran')), ...(await rt.ask(refs[1], 'ran'))];
    expect(ran.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const cp = await g.criticalPath();
    expect(cp.path[cp.path.length - 1]).toBe('d');
    expect(cp.path[0]).toBe('a');
    // Events reach a follower (published to every thread); at least the last ones, after it subscribed.
    expect(events.some((e) => e.taskId === 'd' && e.to === 'completed')).toBe(true);
    expect(await g.progress()).toMatchObject({ status: 'completed', completed: 5 });
    await expect(g.result('nope')).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('tasks.on(graphId) subscribed before submit hears the first tasks from their start; unsubscribing stops it', async () => {
    const { tasks } = await setup();
    const events: TaskEvent[] = [];
    const off = await tasks.on('early', (e) => events.push(e));
    const g = await tasks.submit({ id: 'early', tasks: [w('a'), w('b', ['a'])] });
    await g.done();
    for (let i = 0; i < 500 && !events.some((e) => e.taskId === 'b' && e.to === 'completed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.some((e) => e.taskId === 'b' && e.to === 'completed')).toBe(true);
    // a started while submit was answering: a handle's on() would have been too late for it
    expect(events.filter((e) => e.taskId === 'a').map((e) => e.to)).toEqual(expect.arrayContaining(['running', 'completed']));
    expect(events.every((e) => e.graphId === 'early')).toBe(true);
    // unsubscribed: a task added later is heard by another follower of the graph, not by this one
    await off();
    const count = events.length;
    const other: TaskEvent[] = [];
    const offOther = await tasks.on('early', (e) => other.push(e));
    await g.add([w('late')]);
    await g.done();
    for (let i = 0; i < 500 && !other.some((e) => e.taskId === 'late' && e.to === 'completed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(other.some((e) => e.taskId === 'late' && e.to === 'completed')).toBe(true);
    expect(events.length).toBe(count);
    await offOther();
  });

  it('retries, then permanent failure: continue-independent skips the dependents, fail-fast fails them and skips the rest', async () => {
    const { tasks } = await setup();
    const retry = { maxAttempts: 3, baseMs: 5, capMs: 20 };
    const g = await tasks.submit({
      id: 'ci', retry,
      tasks: [w('flaky', [], { payload: { failTimes: 2 } }), w('bad', [], { payload: { failTimes: 9 } }), w('after-bad', ['bad']), w('after-flaky', ['flaky']), w('free')],
    });
    const s = await g.done();
    expect(s.status).toBe('failed');
    expect(await g.result('flaky')).toMatchObject({ status: 'completed', attempts: 3 });
    expect(await g.result('bad')).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'ERR_ACTOR_CRASHED' } });
    expect(await g.result('after-bad')).toMatchObject({ status: 'skipped', reason: { code: 'dependency-failed', dependency: 'bad' } });
    expect((await g.result('after-flaky')).status).toBe('completed');
    expect((await g.result('free')).status).toBe('completed');

    const f = await tasks.submit({
      id: 'ff', failurePolicy: 'fail-fast', retry, concurrency: 1,
      tasks: [w('fatal', [], { priority: 'critical', payload: { fatal: true } }), w('dep', ['fatal']), w('other'), w('later', ['other'])],
    });
    expect((await f.done()).status).toBe('failed');
    // Marked not retryable: one attempt only.
    expect(await f.result('fatal')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await f.result('dep')).toMatchObject({ status: 'failed', reason: { code: 'dependency-failed' } });
    expect(await f.result('other')).toMatchObject({ status: 'skipped', reason: { code: 'fail-fast', dependency: 'fatal' } });
    expect((await f.result('later')).status).toBe('skipped');
  });

  it('a cycle is resolved by removing its lowest-priority task; detectDeadlocks lists none after', async () => {
    const { tasks } = await setup();
    const g = await tasks.submit({ id: 'cyc', tasks: [w('a', ['c']), w('b', ['a'], { priority: 'low' }), w('c', ['b'], { priority: 'high' }), w('d', ['b'])] });
    expect((await g.done()).status).toBe('completed');
    expect(await g.resolutions()).toEqual([expect.objectContaining({ removed: 'b', cycle: expect.arrayContaining(['a', 'b', 'c']) })]);
    expect(await g.result('b')).toMatchObject({ status: 'cancelled', reason: { code: 'deadlock' } });
    expect((await g.result('d')).status).toBe('completed');
    expect(await g.detectDeadlocks()).toEqual([]);
    // A cycle kept ('report'): the graph is reported stuck, not left hanging.
    const k = await tasks.submit({ id: 'kept', deadlock: 'report', tasks: [w('x', ['y']), w('y', ['x']), w('z')] });
    const s = await k.done();
    expect(s).toMatchObject({ status: 'stuck', stuck: { blocked: ['x', 'y'], cycles: [expect.arrayContaining(['x', 'y'])] } });
    // Adding tasks to a running graph, and a cycle made by an edge added later.
    const more = await k.add([w('n1', ['z'], { priority: 'background' })], [{ task: 'x', dependsOn: 'n1' }]);
    expect(more.added).toEqual(['n1']);
    expect(await k.detectDeadlocks()).toEqual([expect.arrayContaining(['x', 'y'])]);
    await k.cancel('x');
    expect((await k.done()).status).toBe('completed');
  });

  it('cancelling a graph stops its running tasks: their workers get a cancel message', async () => {
    const { rt, refs, tasks } = await setup();
    const g = await tasks.submit({ id: 'slow', tasks: [w('long', [], { payload: { ms: 300 } }), w('next', ['long'])] });
    for (let i = 0; i < 200 && (await g.progress()).running === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await g.cancel();
    const s = await g.done();
    expect(s.status).toBe('cancelled');
    expect(s.progress).toMatchObject({ cancelled: 2 });
    for (let i = 0; i < 200; i++) {
      const heard = [...(await rt.ask(refs[0], 'cancelled')), ...(await rt.ask(refs[1], 'cancelled'))];
      if (heard.length >= 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    // Both workers offer 'work': both hear it (the graph does not know which one took it).
    expect([...(await rt.ask(refs[0], 'cancelled')), ...(await rt.ask(refs[1], 'cancelled'))]).toEqual(['long', 'long']);
  });

  it('runtime.tasks (tasks/install.ts) is the same service', async () => {
    await import('../../tasks/install.ts');
    const { rt, tasks } = await setup();
    expect(await rt.tasks.manager()).not.toBe(undefined);
    // tasks(runtime) was not used to start `tasks` here, so runtime.tasks has a manager of its own; both see the registry.
    const g = await rt.tasks.submit({ id: 'via-runtime', durable, tasks: [w('a')] });
    expect((await g.done()).status).toBe('completed');
    expect(Object.keys(await tasks.graphs())).toContain('via-runtime');
  });

  it('bad input: a named error with the task id at submit, nothing submitted', async () => {
    const { tasks } = await setup();
    const cases: Array<[TaskSpec[], new (...a: never[]) => Error]> = [
      [[w('a'), w('a')], DuplicateTaskIdError],
      [[w('a', ['ghost'])], UnknownDependencyError],
      [[w('a', [], { priority: 0 })], InvalidPriorityError],
      [[w('a', [], { payload: { when: Symbol('x') } })], TaskPayloadNotStorableError],
      [[w('a', [], { capability: 'nobody-offers-this' })], UnknownCapabilityError],
      [[{ id: 'a', type: 'work', target: 'not-running' }], UnknownCapabilityError],
    ];
    for (const [specs, cls] of cases) {
      const err = await tasks.submit({ id: 'bad', tasks: specs }).catch((e) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err.details.taskId).toBe('a');
    }
    await expect(tasks.submit({ tasks: [], concurrency: 0 })).rejects.toBeInstanceOf(InvalidGraphOptionError);
    expect(Object.keys(await tasks.graphs())).not.toContain('bad');
    // The same id is free: nothing was half-submitted.
    const ok = await tasks.submit({ id: 'bad', tasks: [w('a')] });
    expect((await ok.done()).status).toBe('completed');
    // Now it is taken: by a running graph actor, or (a finished snapshot graph, stopped) by its record on disk.
    await expect(tasks.submit({ id: 'bad', tasks: [w('b')] })).rejects.toMatchObject({ code: 'ERR_INVALID_GRAPH_OPTION', details: { option: 'id' } });
    if (durable) {
      const snap = await tasks.submit({ id: 'snap', durability: 'snapshot', tasks: [w('a')] });
      expect((await snap.done()).status).toBe('completed');
      await expect(tasks.submit({ id: 'snap', durability: 'snapshot', tasks: [w('b')] })).rejects.toMatchObject({ code: 'ERR_INVALID_GRAPH_OPTION' });
      // The stopped graph is started again when asked, and still holds its own task only.
      expect((await snap.outcomes()).map((o) => o.id)).toEqual(['a']);
    }
  });
});
