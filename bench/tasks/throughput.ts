// Task throughput with no-op workers: 2,000 independent tasks in one graph (concurrency 64), routed by capability
// to 4 no-op workers on 2 worker threads, submit -> done. Baseline in the same runtime, interleaved: the same 2,000
// asks of the same work, routed by capability from the main thread on one route held by the caller (as the graph
// holds one per capability), 64 in flight at most (target: the graph does >= 50% of the baseline's rate). The graph
// actor lives on the main thread, where the baseline's asks start.
// Volatile graph (in memory), durable graph with durability 'journal' (every outcome journaled) and 'snapshot' (the
// record snapshotted every 10 ms).
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { TaskManager } from '../../tasks/index.ts';
import type { TaskMessage, TaskSpec } from '../../tasks/types.ts';
import { noopWorker } from './actors.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, type Row } from '../lib/rows.ts';

const N = 2_000;
const CONCURRENCY = 64;
const specs: TaskSpec[] = Array.from({ length: N }, (_, i) => ({ id: `t${i}`, type: 'work', capability: 'noop', payload: i }));

async function measure(durable: boolean, figure: string, durability: 'journal' | 'snapshot' = 'journal'): Promise<Row[]> {
  return withDataDir(async (dataDir) => {
    const rt = await Runtime.start({ workers: 2, dataDir, stallMs: 0 });
    try {
      for (let i = 0; i < 4; i++) await rt.spawn(noopWorker, { id: `noop${i}`, pin: 1 + (i % 2) });
      const tasks = await TaskManager.start(rt, { durable, pin: 0 });
      let round = 0;
      const running: number[] = [];
      const route = rt.router({ capability: 'noop', retry: false });
      const out = await interleave({ warmup: 3, runs: 7 }, {
        graph: async () => {
          const t0 = performance.now();
          const g = await tasks.submit({ id: `g${round++}`, tasks: specs, concurrency: CONCURRENCY, events: false, retry: false, durability });
          const t1 = performance.now();
          const s = await g.done();
          if (round > 3) running.push((N * 1000) / (performance.now() - t1));
          if (s.progress.completed !== N) throw new Error(`graph: ${JSON.stringify(s.progress)}`);
          return (N * 1000) / (performance.now() - t0);
        },
        asks: async () => {
          const t0 = performance.now();
          let next = 0;
          const lane = async () => {
            while (next < N) {
              const i = next++;
              const msg: TaskMessage = { graphId: 'x', taskId: `t${i}`, attempt: 1, messageId: `x/t${i}/1`, payload: i, deps: {} };
              await rt.ask(route, 'work', msg);
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, lane));
          return (N * 1000) / (performance.now() - t0);
        },
      }, { gc: false });
      return [
        makePairedRow({ figure, unit: 'msg/s', baselineName: 'routed asks, 64 in flight', target: { on: 'ratio', op: '>=', value: 0.5 }, runs: { troupe: out.graph, baseline: out.asks } }),
        makePairedRow({ figure: `${figure}: after submit (submit -> done, submit excluded)`, unit: 'msg/s', baselineName: 'routed asks, 64 in flight', runs: { troupe: running, baseline: out.asks } }),
      ];
    } finally {
      await rt.shutdown();
    }
  });
}

emit({
  rows: [
    ...(await measure(false, 'tasks-4a. tasks/s, 2,000 no-op tasks, in-memory graph')),
    ...(await measure(true, 'tasks-4b. tasks/s, 2,000 no-op tasks, durable graph (LMDB, journal)')),
    ...(await measure(true, 'tasks-4c. tasks/s, 2,000 no-op tasks, durable graph (LMDB, snapshot)', 'snapshot')),
  ],
  detail: { tasks: N, concurrency: CONCURRENCY, workers: 4, threads: 2 },
});
