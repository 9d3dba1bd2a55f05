// Figure 2: 200k tells from the main thread to an actor on a worker, vs raw postMessage (one message per post) to
// a plain counting worker; and worker-to-worker: an actor on worker 1 tells an actor on worker 2, vs two raw
// workers joined by a MessageChannel.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { blaster, tally } from '../actors.ts';
import { RawWorker } from '../lib/raw.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 200_000;
const rounds = { warmup: 2, runs: 5 };

async function mainToWorker() {
  const rt = await Runtime.start({ workers: 1 });
  const ref = await rt.spawn(tally, { pin: 1 });
  const raw = await RawWorker.start();
  let total = 0;
  const runs = await interleave(rounds, {
    async troupe() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
      const count = await rt.ask(ref, 'get');
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`troupe counted ${count}, expected ${total}`);
      return N / s;
    },
    async raw() {
      const t0 = performance.now();
      await raw.tells(N);
      return N / ((performance.now() - t0) / 1000);
    },
  });
  await rt.shutdown();
  await raw.terminate();
  return makeRow({
    figure: '2a. cross-thread tell, main -> worker', unit: 'msg/s', baselineName: 'raw postMessage',
    target: { on: 'ratio', op: '>=', value: 1.5 }, runs: { troupe: runs.troupe, baseline: runs.raw },
  });
}

async function workerToWorker() {
  const rt = await Runtime.start({ workers: 2 });
  const target = await rt.spawn(tally, { pin: 2 });
  const sender = await rt.spawn(blaster, { pin: 1 });
  const a = await RawWorker.start();
  const b = await RawWorker.start();
  a.connect(b);
  let total = 0;
  const runs = await interleave(rounds, {
    async troupe() {
      const t0 = performance.now();
      const count = await rt.ask(sender, 'blast', { target, n: N }, { timeoutMs: 60_000 });
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`troupe counted ${count}, expected ${total}`);
      return N / s;
    },
    async raw() {
      const t0 = performance.now();
      await a.blast(N);
      return N / ((performance.now() - t0) / 1000);
    },
  });
  await rt.shutdown();
  await Promise.all([a.terminate(), b.terminate()]);
  return makeRow({
    figure: '2b. cross-thread tell, worker -> worker', unit: 'msg/s', baselineName: 'raw MessagePort',
    target: { on: 'ratio', op: '>=', value: 1.5 }, runs: { troupe: runs.troupe, baseline: runs.raw },
  });
}

emit({ rows: [await mainToWorker(), await workerToWorker()] });
