// Unit tests of the pure task graph: bad input, cycles and their resolution, retries with backoff, stuck
// detection, the critical path. No threads.
import { describe, expect, it } from 'vitest';
import { TaskGraph, type CoreOptions } from '../../tasks/graph/graph.ts';
import { criticalPath } from '../../tasks/graph/estimate.ts';
import { findCycles } from '../../tasks/graph/cycles.ts';
import { PRIORITY } from '../../tasks/priority.ts';
import {
  DuplicateTaskIdError, InvalidPriorityError, InvalidTaskError, TaskDeadlockError, TaskPayloadNotStorableError, UnknownDependencyError,
} from '../../tasks/errors.ts';
import type { TaskSpec } from '../../tasks/types.ts';

const opts = (o: Partial<CoreOptions> = {}): CoreOptions => ({
  graphId: 'g', failurePolicy: 'continue-independent', deadlock: 'remove-lowest', concurrency: 100, perCapability: {},
  retry: false, timeoutMs: 1000, durable: true, routing: 'router', events: true, ...o,
});
const t = (id: string, dependsOn: string[] = [], extra: Partial<TaskSpec> = {}): TaskSpec => ({ id, type: 'work', capability: 'c', dependsOn, ...extra });
const status = (g: TaskGraph, id: string) => g.outcome(id).status;

describe('task graph: bad input is refused whole', () => {
  it('names the error and the task, and changes nothing', () => {
    const g = new TaskGraph(opts());
    g.add([t('a')], 0);
    const cases: Array<[TaskSpec[], new (...a: never[]) => Error, string]> = [
      [[t('b'), t('b')], DuplicateTaskIdError, 'b'],
      [[t('x'), t('a')], DuplicateTaskIdError, 'a'],
      [[t('b', ['nope'])], UnknownDependencyError, 'b'],
      [[t('b', [], { priority: 11 })], InvalidPriorityError, 'b'],
      [[t('b', [], { priority: 'urgent' as never })], InvalidPriorityError, 'b'],
      [[t('b', [], { priority: 2.5 })], InvalidPriorityError, 'b'],
      [[t('b', [], { payload: { f: () => 1 } })], TaskPayloadNotStorableError, 'b'],
      [[t('b', [], { payload: new (class Foo {})() })], TaskPayloadNotStorableError, 'b'],
      [[{ id: 'b', type: 'work' }], InvalidTaskError, 'b'],
      [[t('b', [], { timeoutMs: -1 })], InvalidTaskError, 'b'],
      [[t('b', [], { retry: 'often' as never })], InvalidTaskError, 'b'],
      [[{ ...t('b'), colour: 'red' } as never], InvalidTaskError, 'b'],
    ];
    for (const [specs, cls, id] of cases) {
      let err: unknown;
      try {
        g.add(specs, 1);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(specs.map((s) => s.id))).toBeInstanceOf(cls);
      expect((err as { details: { taskId: string } }).details.taskId).toBe(id);
      expect((err as { code: string }).code).toMatch(/^ERR_/);
      expect(g.size).toBe(1);
    }
    expect(g.progress()).toMatchObject({ total: 1, ready: 1 });
  });

  it('priorities: names and integers 1..10, critical first', () => {
    const g = new TaskGraph(opts());
    g.add([t('bg', [], { priority: 'background' }), t('low', [], { priority: PRIORITY.low }), t('crit', [], { priority: 'critical' }), t('med'), t('high', [], { priority: 'high' })], 0);
    const order = [];
    for (let d = g.next(1); d; d = g.next(1)) order.push(d.def.id);
    expect(order).toEqual(['crit', 'high', 'med', 'low', 'bg']);
  });
});

describe('task graph: deadlocks', () => {
  it('a cycle at submit: the lowest-priority task is removed and recorded, the rest runs', () => {
    const g = new TaskGraph(opts());
    const res = g.add([t('a', ['c'], { priority: 'high' }), t('b', ['a'], { priority: 'low' }), t('c', ['b']), t('d', ['c'])], 0);
    expect(res.resolutions).toEqual([{ cycle: expect.arrayContaining(['a', 'b', 'c']), removed: 'b', at: 0 }]);
    expect(g.outcome('b')).toMatchObject({ status: 'cancelled', reason: { code: 'deadlock' } });
    expect(status(g, 'c')).toBe('ready');
    expect(g.detectDeadlocks()).toEqual([]);
    const c = g.next(1)!;
    g.complete(c.index, 1, 'C', 2);
    expect(new Set(['a', 'd'].map((id) => status(g, id)))).toEqual(new Set(['ready']));
  });

  it('a cycle created by adding a task and an edge later is found and resolved', () => {
    const g = new TaskGraph(opts());
    g.add([t('a'), t('b', ['a'])], 0);
    const res = g.add([t('x', ['b'], { priority: 'background' })], 1, [{ task: 'a', dependsOn: 'x' }]);
    expect(res.resolutions[0]).toMatchObject({ removed: 'x' });
    expect(status(g, 'a')).toBe('ready');
  });

  it("policy 'reject' refuses the batch with the cycles; 'report' keeps it and the graph is reported stuck", () => {
    const r = new TaskGraph(opts({ deadlock: 'reject' }));
    expect(() => r.add([t('a', ['b']), t('b', ['a'])], 0)).toThrow(TaskDeadlockError);
    expect(r.size).toBe(0);
    const k = new TaskGraph(opts({ deadlock: 'report' }));
    k.add([t('a', ['b']), t('b', ['a']), t('c')], 0);
    expect(k.status()).toBe('running');
    const c = k.next(1)!;
    k.complete(c.index, 1, null, 2);
    expect(k.status()).toBe('stuck');
    expect(k.stuck()).toEqual({ blocked: ['a', 'b'], cycles: [expect.arrayContaining(['a', 'b'])] });
    k.cancel('a', 3);
    expect(k.status()).toBe('completed');
  });

  it('a task waiting for itself is a cycle; Tarjan finds every component', () => {
    expect(findCycles(1, () => [0])).toEqual([[0]]);
    const edges = [[1], [2], [0], [4], [3], []];
    expect(findCycles(6, (v) => edges[v]).map((c) => [...c].sort())).toEqual([[0, 1, 2], [3, 4]]);
    // A long chain does not overflow the stack.
    const n = 200_000;
    expect(findCycles(n, (v) => (v + 1 < n ? [v + 1] : [0]))[0].length).toBe(n);
  });
});

describe('task graph: failures', () => {
  const crash = { name: 'ActorCrashedError', message: 'boom', code: 'ERR_ACTOR_CRASHED' };
  it('retries after a backoff, then fails for good; continue-independent skips only the dependents', () => {
    const g = new TaskGraph(opts({ retry: { maxAttempts: 2, baseMs: 100, capMs: 100 } }));
    g.add([t('a'), t('b', ['a']), t('c', ['b']), t('x')], 0);
    const a = g.next(0)!;
    const x = g.next(0)!;
    g.fail(a.index, 1, crash, 10, () => 1);
    expect(g.outcome('a')).toMatchObject({ status: 'blocked', reason: { code: 'retry-wait' } });
    expect(g.nextRetryAt()).toBe(110);
    expect(g.progress()).toMatchObject({ retrying: 1, status: 'running' });
    g.promote(50);
    expect(status(g, 'a')).toBe('blocked');
    g.promote(110);
    expect(g.next(111)).toMatchObject({ def: { id: 'a' }, attempt: 2 });
    g.fail(a.index, 2, crash, 120, () => 1);
    expect(g.outcome('a')).toMatchObject({ status: 'failed', attempts: 2, error: crash });
    expect(g.outcome('b').reason).toMatchObject({ code: 'dependency-failed', dependency: 'a' });
    expect([status(g, 'b'), status(g, 'c'), status(g, 'x')]).toEqual(['skipped', 'skipped', 'running']);
    g.complete(x.index, 1, 'X', 130);
    expect(g.progress()).toMatchObject({ status: 'failed', completed: 1, failed: 1, skipped: 2 });
  });

  it('fail-fast fails the dependents, skips the rest and stops what runs; not-retryable errors fail at once', () => {
    const g = new TaskGraph(opts({ failurePolicy: 'fail-fast', retry: { maxAttempts: 5, baseMs: 0, capMs: 0 } }));
    g.add([t('a'), t('b', ['a']), t('x'), t('y')], 0);
    const a = g.next(0)!;
    const x = g.next(0)!;
    const stopped = g.fail(a.index, 1, { name: 'Error', message: 'bad input', code: 'ERR_BAD' }, 1, Math.random);
    expect(stopped).toEqual([x.index]);
    expect([status(g, 'a'), status(g, 'b'), status(g, 'x'), status(g, 'y')]).toEqual(['failed', 'failed', 'cancelled', 'skipped']);
    expect(g.outcome('y').reason).toMatchObject({ code: 'fail-fast', dependency: 'a' });
    expect(g.complete(x.index, 1, 'late', 2)).toBe(false);
    expect(g.status()).toBe('failed');
  });

  it('concurrency per graph and per capability', () => {
    const g = new TaskGraph(opts({ concurrency: 3, perCapability: { c: 1 } }));
    g.add([t('c1'), t('c2'), t('d1', [], { capability: 'd' }), t('d2', [], { capability: 'd' }), t('d3', [], { capability: 'd' })], 0);
    const got = [];
    for (let d = g.next(0); d; d = g.next(0)) got.push(d.def.id);
    expect(got).toEqual(['c1', 'd1', 'd2']);
  });
});

describe('task graph: restore and estimates', () => {
  it('a graph restored from its stored parts goes on where it was', () => {
    const g = new TaskGraph(opts());
    g.add([t('a'), t('b', ['a']), t('c', ['a'], { priority: 'high' }), t('d')], 0);
    const a = g.next(0)!;
    g.complete(a.index, 1, 'A', 5);
    const r = TaskGraph.restore(opts(), g.nodes.map((n) => structuredClone(n.def)), g.nodes.map((n) => structuredClone(n.run)), g.extra());
    expect(r.progress()).toEqual(g.progress());
    const order = [];
    for (let d = r.next(6); d; d = r.next(6)) order.push([d.def.id, d.deps]);
    expect(order).toEqual([['c', { a: 'A' }], ['d', {}], ['b', { a: 'A' }]]);
  });

  it('the critical path and what is left of it, from observed durations', () => {
    const g = new TaskGraph(opts());
    g.add([t('a'), t('b', ['a']), t('c', ['a']), t('d', ['b', 'c'])], 0);
    expect(criticalPath(g, 0).remainingMs).toBeUndefined();
    const a = g.next(0)!;
    g.complete(a.index, 1, null, 10);
    const b = g.next(10)!, c = g.next(10)!;
    g.complete(b.index, 1, null, 40);
    g.complete(c.index, 1, null, 15);
    const cp = criticalPath(g, 40);
    expect(cp.path).toEqual(['a', 'b', 'd']);
    // d is estimated as the mean of completed tasks of its kind: (10 + 30 + 5) / 3 = 15.
    expect(cp.ms).toBeCloseTo(55);
    expect(cp.remainingMs).toBeCloseTo(15);
  });
});
