// Profiling aid (not in the bench's groups): the throughput round of bench/tasks/throughput.ts, the graph only,
// ROUNDS times, for `node --cpu-prof --import tsx bench/tasks/profile-journal.ts [journal|snapshot|memory]` and for
// A/B runs of two trees (it prints the median tasks/s and submit time of the second half of the rounds).
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { TaskManager } from '../../tasks/index.ts';
import type { TaskSpec } from '../../tasks/types.ts';
import { noopWorker } from './actors.ts';
import { withDataDir } from '../lib/datadir.ts';

const N = 2_000;
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const mode = process.argv[2] ?? 'journal';
const specs: TaskSpec[] = Array.from({ length: N }, (_, i) => ({ id: `t${i}`, type: 'work', capability: 'noop', payload: i }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await withDataDir(async (dataDir) => {
  const rt = await Runtime.start({ workers: 2, dataDir, stallMs: 0 });
  try {
    for (let i = 0; i < 4; i++) await rt.spawn(noopWorker, { id: `noop${i}`, pin: 1 + (i % 2) });
    const tasks = await TaskManager.start(rt, { durable: mode !== 'memory', pin: 0 });
    const rates: number[] = [];
    const submits: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      const g = await tasks.submit({ id: `g${round}`, tasks: specs, concurrency: 64, events: false, retry: false, durability: mode === 'snapshot' ? 'snapshot' : 'journal' });
      const t1 = performance.now();
      await g.done();
      rates.push(Math.round((N * 1000) / (performance.now() - t0)));
      submits.push(t1 - t0);
    }
    const half = Math.floor(ROUNDS / 2);
    console.log(mode, 'tasks/s per round', rates.join(' '), '| median of the second half', median(rates.slice(half)), 'submit ms', median(submits.slice(half)).toFixed(2));
  } finally {
    await rt.shutdown();
  }
});
