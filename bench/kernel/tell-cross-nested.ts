// Figure 2a with the nested states of issue 15: 200k tells from the main thread to an actor on a worker, for each
// nested state of bench/actors.ts, vs raw postMessage (one message per post) to a plain worker that applies the
// same handler to a state of the same shape in plain JS (bench/raw-worker.mjs 'shape'). One runtime and one raw
// worker for all four, each figure's rounds interleaved.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorDefinition, ActorRef } from '../../actors/define.ts';
import { nestedStates } from '../actors.ts';
import { RawWorker } from '../lib/raw.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 200_000;
const rounds = { warmup: 2, runs: 5 };

const rt = await Runtime.start({ workers: 1 });
const raw = await RawWorker.start();
const rows = [];
for (const [name, def] of Object.entries(nestedStates)) {
  const ref = (await rt.spawn(def as ActorDefinition, { pin: 1 })) as ActorRef;
  await raw.shape(name);
  let total = 0;
  const runs = await interleave(rounds, {
    async troupe() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
      const count = await rt.ask(ref, 'get', undefined, { timeoutMs: 60_000 });
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`troupe (${name}) counted ${count}, expected ${total}`);
      return N / s;
    },
    async raw() {
      const t0 = performance.now();
      await raw.tells(N);
      return N / ((performance.now() - t0) / 1000);
    },
  });
  rows.push(makeRow({
    figure: `2a-${name}. cross-thread tell, main -> worker, state ${name}`, unit: 'msg/s', baselineName: 'raw postMessage, same state',
    target: { on: 'ratio', op: '>=', value: 1.5 }, runs: { troupe: runs.troupe, baseline: runs.raw },
  }));
}
await rt.shutdown();
await raw.terminate();
emit({ rows });
