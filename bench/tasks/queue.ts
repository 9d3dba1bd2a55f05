// The task queue itself (tasks/graph/, no threads): 10,000 tasks submitted in one graph, then dequeued and
// completed one by one (dequeue latency per task: target < 100 us); a 50-task cycle detected and resolved (target
// < 10 ms). Baselines in the same process: sorting the same 10,000 (priority, order) entries with Array.sort and
// walking them (the floor of any priority queue), and adding the same 50 tasks without the edge that closes the
// cycle.
import '../lib/env.ts';
import { TaskGraph, type CoreOptions } from '../../tasks/graph/graph.ts';
import type { TaskSpec } from '../../tasks/types.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 10_000;
const opts: CoreOptions = { graphId: 'bench', failurePolicy: 'continue-independent', deadlock: 'remove-lowest', concurrency: Infinity,
  perCapability: {}, retry: false, timeoutMs: 60_000, durable: true, routing: 'router' };

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const PRIOS = [1, 3, 5, 7, 10];
const specs: TaskSpec[] = [];
for (let i = 0; i < N; i++) {
  const deps = i < 10 ? [] : [...new Set([`t${Math.floor(rnd() * i)}`, `t${Math.floor(rnd() * i)}`])];
  specs.push({ id: `t${i}`, type: 'work', capability: `c${i % 4}`, priority: PRIOS[i % 5], payload: { i }, dependsOn: deps });
}

const submitMs: number[] = [], dequeueUs: number[] = [], sortMs: number[] = [], sortUs: number[] = [];
const rounds = { warmup: 2, runs: 7 };
await interleave(rounds, {
  troupe: async () => {
    const g = new TaskGraph(opts);
    const t0 = performance.now();
    g.add(specs, 0);
    const t1 = performance.now();
    let done = 0;
    for (;;) {
      const d = g.next(0);
      if (d === undefined) break;
      g.complete(d.index, d.attempt, null, 0);
      done++;
    }
    const t2 = performance.now();
    if (done !== N) throw new Error(`dequeued ${done} of ${N}`);
    submitMs.push(t1 - t0);
    dequeueUs.push(((t2 - t1) * 1000) / N);
  },
  baseline: async () => {
    const t0 = performance.now();
    const entries = specs.map((s, i) => ({ priority: s.priority as number, seq: i, id: s.id }));
    entries.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    const t1 = performance.now();
    let sum = 0;
    for (const e of entries) sum += e.priority;
    const t2 = performance.now();
    if (sum === 0) throw new Error('empty');
    sortMs.push(t1 - t0);
    sortUs.push(((t2 - t1) * 1000 + (t1 - t0) * 1000) / N);
  },
});

// A 50-task cycle: t0 <- t1 <- ... <- t49 <- t0, with 50 more tasks hanging off it.
const ring = (closed: boolean): TaskSpec[] => {
  const out: TaskSpec[] = [];
  for (let i = 0; i < 50; i++) out.push({ id: `r${i}`, type: 'work', capability: 'c', priority: PRIOS[i % 5], dependsOn: i === 0 ? (closed ? ['r49'] : []) : [`r${i - 1}`] });
  for (let i = 0; i < 50; i++) out.push({ id: `x${i}`, type: 'work', capability: 'c', dependsOn: [`r${i}`] });
  return out;
};
const cycleMs: number[] = [], acyclicMs: number[] = [];
const closed = ring(true), open = ring(false);
await interleave({ warmup: 20, runs: 50 }, {
  troupe: async () => {
    const g = new TaskGraph(opts);
    const t0 = performance.now();
    const r = g.add(closed, 0);
    cycleMs.push(performance.now() - t0);
    if (r.resolutions.length !== 1 || g.detectDeadlocks().length !== 0) throw new Error('cycle not resolved');
  },
  baseline: async () => {
    const g = new TaskGraph(opts);
    const t0 = performance.now();
    g.add(open, 0);
    acyclicMs.push(performance.now() - t0);
  },
});

emit({
  rows: [
    makeRow({ figure: 'tasks-1. submit 10,000 tasks (random DAG, ~2 deps each) to one graph', unit: 'ms', baselineName: 'Array.sort of the 10k entries', runs: { troupe: submitMs, baseline: sortMs } }),
    makeRow({ figure: 'tasks-2. dequeue + complete, per task, 10,000 tasks', unit: 'us', baselineName: 'sort + walk, per entry', target: { on: 'troupe', op: '<', value: 100 }, runs: { troupe: dequeueUs, baseline: sortUs } }),
    makeRow({ figure: 'tasks-3. 50-task cycle detected and resolved (add of 100 tasks)', unit: 'ms', baselineName: 'same 100 tasks, no cycle', target: { on: 'troupe', op: '<', value: 10 }, runs: { troupe: cycleMs, baseline: acyclicMs } }),
  ],
  detail: { tasks: N, rounds },
});
