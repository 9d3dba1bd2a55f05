// Router figures R1-R3: routed tells against direct tells to the same four actors (same thread, and main -> a
// worker), and routed against direct ask latency across threads. The choice is made on the sender's thread.
import '../lib/env.ts';
import '../../router/index.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../actors/define.ts';
import { routedTally } from './actors.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, makeRow } from '../lib/rows.ts';
import { sequentialLatency } from '../lib/stats.ts';

const N = 200_000;
const ASKS = 5_000;
const rounds = { warmup: 2, runs: 5 };
const route = Object.freeze({ capability: 'count' });

async function tells(workers: number, figure: string) {
  const rt = await Runtime.start({ workers });
  const refs: ActorRef<typeof routedTally>[] = [];
  for (let i = 0; i < 4; i++) refs.push(await rt.spawn(routedTally, { pin: workers === 0 ? 0 : 1 }));
  let total = 0;
  const sum = async () => (await Promise.all(refs.map((r) => rt.ask(r, 'get')))).reduce((a, b) => a + b, 0);
  const runs = await interleave(rounds, {
    async routed() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(route, 'add', 1);
      const count = await sum();
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`counted ${count}, expected ${total}`);
      return N / s;
    },
    async direct() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(refs[i & 3], 'add', 1);
      const count = await sum();
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`counted ${count}, expected ${total}`);
      return N / s;
    },
  });
  await rt.shutdown();
  return makePairedRow({ figure, unit: 'msg/s', baselineName: 'direct tells (same 4 actors)', target: { on: 'ratio', op: '>=', value: 0.5 }, runs: { troupe: runs.routed, baseline: runs.direct } });
}

async function asks() {
  const rt = await Runtime.start({ workers: 1 });
  const refs: ActorRef<typeof routedTally>[] = [];
  for (let i = 0; i < 4; i++) refs.push(await rt.spawn(routedTally, { pin: 1 }));
  const runs = await interleave({ warmup: 1, runs: 5 }, {
    routed: () => sequentialLatency(ASKS, () => rt.ask(route, 'get')),
    direct: () => sequentialLatency(ASKS, (i) => rt.ask(refs[i & 3], 'get')),
  });
  await rt.shutdown();
  return makeRow({
    figure: 'R3. routed ask p50, main -> worker', unit: 'us', baselineName: 'direct ask', target: { on: 'ratio', op: '<=', value: 1.2 },
    runs: { troupe: runs.routed.map((l) => l.p50), baseline: runs.direct.map((l) => l.p50) },
  });
}

emit({ rows: [await tells(0, 'R1. routed tell, same thread'), await tells(1, 'R2. routed tell, main -> worker'), await asks()] });
