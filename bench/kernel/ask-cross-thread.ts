// Figure 4: 5k sequential asks from the main thread to an actor on a worker, vs raw postMessage ping-pong.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { tally } from '../actors.ts';
import { RawWorker } from '../lib/raw.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { sequentialLatency, type Latency } from '../lib/stats.ts';

const ASKS = 5_000;

const rt = await Runtime.start({ workers: 1 });
const ref = await rt.spawn(tally, { pin: 1 });
const raw = await RawWorker.start();


const runs = await interleave({ warmup: 1, runs: 5 }, {
  troupe: () => sequentialLatency(ASKS, () => rt.ask(ref, 'get')),
  raw: () => sequentialLatency(ASKS, (i) => raw.roundTrip(i)),
});

await rt.shutdown();
await raw.terminate();

const pick = (k: keyof Latency) => ({ troupe: runs.troupe.map((l) => l[k]), baseline: runs.raw.map((l) => l[k]) });
emit({
  rows: [
    makeRow({ figure: '4. cross-thread ask p50', unit: 'us', baselineName: 'raw ping-pong', target: { on: 'ratio', op: '<=', value: 1.5 }, runs: pick('p50') }),
    makeRow({ figure: '4. cross-thread ask p99', unit: 'us', baselineName: 'raw ping-pong', runs: pick('p99') }),
  ],
});
