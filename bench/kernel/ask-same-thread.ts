// Figure 3: 5k sequential asks to an actor on the calling thread, per-ask round trip, vs nact query.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { tally } from '../actors.ts';
import { nactGet, nactSystem } from '../lib/nact.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { latency, type Latency } from '../lib/stats.ts';

const ASKS = 5_000;

const rt = await Runtime.start({ workers: 0 });
const ref = await rt.spawn(tally);
const nact = nactSystem();
const nref = nact.counter();

async function sample(ask: () => Promise<unknown>): Promise<Latency> {
  const us = new Array<number>(ASKS);
  for (let i = 0; i < ASKS; i++) {
    const t0 = performance.now();
    await ask();
    us[i] = (performance.now() - t0) * 1000;
  }
  return latency(us);
}

const runs = await interleave({ warmup: 2, runs: 5 }, {
  troupe: () => sample(() => rt.ask(ref, 'get')),
  nact: () => sample(() => nactGet(nref)),
});

await rt.shutdown();
nact.stop();

const pick = (k: keyof Latency) => ({ troupe: runs.troupe.map((l) => l[k]), baseline: runs.nact.map((l) => l[k]) });
emit({
  rows: [
    makeRow({ figure: '3. same-thread ask p50', unit: 'us', baselineName: 'nact', target: { on: 'ratio', op: '<=', value: 1 }, runs: pick('p50') }),
    makeRow({ figure: '3. same-thread ask p99', unit: 'us', baselineName: 'nact', runs: pick('p99') }),
  ],
});
