// Router figure R4: load-balancing quality. A pool of 8 services on 2 workers, one of them 10x slower (10 ms
// against 1 ms of handling, a timer: the others on its thread are not held up); a client keeps 16 asks in flight
// through the route and records each ask's latency. p99 under each strategy, in the same run, against round-robin.
import '../lib/env.ts';
import '../../router/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { service } from './actors.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';
import { latency, type Latency } from '../lib/stats.ts';

const ASKS = 1_500;
const CONCURRENCY = 16;

const rt = await Runtime.start({ workers: 2 });
for (let i = 0; i < 8; i++) await rt.spawn(service, { id: `svc-${i}`, args: { ms: i === 0 ? 10 : 1 } });

async function load(strategy: string): Promise<Latency> {
  const route = Object.freeze({ capability: 'serve', strategy, retry: false as const });
  const us: number[] = [];
  let next = 0;
  async function client(): Promise<void> {
    while (next < ASKS) {
      next++;
      const t0 = performance.now();
      await rt.ask(route, 'call', 0, { timeoutMs: 30_000 });
      us.push((performance.now() - t0) * 1000);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return latency(us);
}

const runs = await interleave({ warmup: 1, runs: 4 }, {
  p2c: () => load('p2c'),
  leastLoaded: () => load('least-loaded'),
  roundRobin: () => load('round-robin'),
}, { gc: false });
await rt.shutdown();

const p99 = (ls: Latency[]) => ls.map((l) => l.p99);
emit({
  rows: [
    // Lower is better for latency: the ratio is troupe / baseline, so "3x lower" is a ratio <= 1/3.
    makePairedRow({ figure: 'R4a. p99 with one of 8 actors 10x slower: p2c (peak EWMA)', unit: 'us', baselineName: 'round-robin', target: { on: 'ratio', op: '<=', value: 1 / 3 }, runs: { troupe: p99(runs.p2c), baseline: p99(runs.roundRobin) } }),
    makePairedRow({ figure: 'R4b. the same: least-loaded', unit: 'us', baselineName: 'round-robin', target: { on: 'ratio', op: '<=', value: 1 / 2 }, runs: { troupe: p99(runs.leastLoaded), baseline: p99(runs.roundRobin) } }),
  ],
});
