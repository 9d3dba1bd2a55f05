// 100 tasks in a layered DAG over 8 worker actors (on 2 threads): task (layer L, column c) runs on worker c and
// depends on (L-1, c) and on one or two other tasks of layer L-1, so a worker is never asked for two tasks at once
// and the best possible schedule takes exactly the critical path's time. Each task sleeps 5-25 ms on its worker.
// Measured: submit -> done of the graph (durable and in-memory). Baseline in the same run, interleaved: the tasks of
// the critical path asked one after the other to the same workers (the critical path's own time, timer slack
// included). Target: the graph within 5% of it.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { TaskManager } from '../../tasks/index.ts';
import type { TaskMessage, TaskSpec } from '../../tasks/types.ts';
import { sleepWorker } from './actors.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, type Row } from '../lib/rows.ts';

const N = 100, COLS = 8;
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const specs: TaskSpec[] = [];
for (let i = 0; i < N; i++) {
  const layer = Math.floor(i / COLS), col = i % COLS;
  const deps = layer === 0 ? [] : [...new Set([`t${i - COLS}`, `t${(layer - 1) * COLS + Math.floor(rnd() * COLS)}`, `t${(layer - 1) * COLS + Math.floor(rnd() * COLS)}`])];
  specs.push({ id: `t${i}`, type: 'work', target: `sleeper${col}`, payload: { ms: 5 + Math.floor(rnd() * 21) }, dependsOn: deps });
}
// The critical path by the nominal durations.
const len = new Map<string, { ms: number; prev?: string }>();
for (const s of specs) {
  let best: { ms: number; prev?: string } = { ms: 0 };
  for (const d of s.dependsOn ?? []) if (len.get(d)!.ms > best.ms) best = { ms: len.get(d)!.ms, prev: d };
  len.set(s.id, { ms: best.ms + (s.payload as { ms: number }).ms, prev: best.prev });
}
let end = specs[0].id;
for (const s of specs) if (len.get(s.id)!.ms > len.get(end)!.ms) end = s.id;
const chain: TaskSpec[] = [];
for (let id: string | undefined = end; id !== undefined; id = len.get(id)!.prev) chain.unshift(specs.find((s) => s.id === id)!);

async function measure(durable: boolean, figure: string, durability: 'journal' | 'snapshot' = 'journal'): Promise<Row> {
  return withDataDir(async (dataDir) => {
    const rt = await Runtime.start({ workers: 2, dataDir, stallMs: 0 });
    try {
      const refs: Array<Awaited<ReturnType<typeof rt.spawn<typeof sleepWorker>>>> = [];
      for (let c = 0; c < COLS; c++) refs.push(await rt.spawn(sleepWorker, { id: `sleeper${c}`, pin: 1 + (c % 2) }));
      const tasks = await TaskManager.start(rt, { durable });
      let round = 0;
      const out = await interleave({ warmup: 2, runs: 7 }, {
        graph: async () => {
          const t0 = performance.now();
          const g = await tasks.submit({ id: `g${round++}`, tasks: specs, concurrency: COLS, events: false, retry: false, durability });
          const s = await g.done();
          if (s.progress.completed !== N) throw new Error(`graph: ${JSON.stringify(s.progress)}`);
          return performance.now() - t0;
        },
        chain: async () => {
          const t0 = performance.now();
          for (const s of chain) {
            const msg: TaskMessage<{ ms: number }> = { graphId: 'x', taskId: s.id, attempt: 1, messageId: `x/${s.id}/1`, payload: s.payload as { ms: number }, deps: {} };
            await rt.ask(refs[Number(s.target!.slice('sleeper'.length))], 'work', msg);
          }
          return performance.now() - t0;
        },
      }, { gc: false });
      return makePairedRow({ figure, unit: 'ms', baselineName: `the critical path asked in sequence (${chain.length} tasks, ${len.get(end)!.ms} ms nominal)`, target: { on: 'ratio', op: '<', value: 1.05 }, runs: { troupe: out.graph, baseline: out.chain } });
    } finally {
      await rt.shutdown();
    }
  });
}

emit({
  rows: [
    await measure(false, 'tasks-5a. 100-task DAG over 8 workers, submit -> done, in-memory graph'),
    await measure(true, 'tasks-5b. 100-task DAG over 8 workers, submit -> done, durable graph (LMDB, journal)'),
    await measure(true, 'tasks-5c. 100-task DAG over 8 workers, submit -> done, durable graph (LMDB, snapshot)', 'snapshot'),
  ],
  detail: { tasks: N, workers: COLS, criticalPath: chain.map((s) => s.id), nominalMs: len.get(end)!.ms },
});
