// Figure 8: what supervision costs a healthy actor. 200k tells (then one ask to wait for them) to a supervised
// counting actor vs the same actor spawned unsupervised, both in the same runtime, on the calling thread
// (workers: 0) and from the main thread to worker 1 (workers: 1). Target: supervised throughput within 5% of
// unsupervised: ratio >= 0.95, where ratio is the median over rounds of supervised / unsupervised (each round runs
// both, back to back), steadier on a shared host than the ratio of the two medians.
//
// A 5% effect is close to what this measurement can resolve on a busy host, so every round also runs a second
// unsupervised actor: its ratio to the first (the "control" row, an A/A comparison) shows the noise floor of the
// run. Each round runs the three in a different order (all 6 orders, twice), so no actor always goes first.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import { tally } from '../actors.ts';
import { emit, gc } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';

const N = 200_000;
const WARMUP = 3;
const RUNS = 12;
const ORDERS = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [0, 2, 1], [1, 0, 2]];

async function configuration(workers: number, figure: string) {
  const rt = await Runtime.start({ workers, stallMs: 0 });
  const pin = workers > 0 ? 1 : 0;
  const plain = await rt.spawn(tally, { pin });
  const sup = await rt.supervise({ id: 'root', children: [{ id: 'supervised', actor: tally, pin }] });
  const supervised = sup.ref<typeof tally>('supervised')!;
  const control = await rt.spawn(tally, { pin });
  const actors = [supervised, plain, control];
  if (actors.some((a) => a.node !== pin)) throw new Error('actors not placed as pinned');
  const totals = new Map<string, number>();

  async function tells(ref: ActorRef<typeof tally>): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
    const count = await rt.ask(ref, 'get');
    const s = (performance.now() - t0) / 1000;
    const expected = (totals.get(ref.id) ?? 0) + N;
    totals.set(ref.id, expected);
    if (count !== expected) throw new Error(`${ref.id} counted ${count}, expected ${expected}`);
    return N / s;
  }

  const runs: number[][] = [[], [], []];
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const i of ORDERS[round % ORDERS.length]) {
      gc();
      const rate = await tells(actors[i]);
      if (round >= WARMUP) runs[i].push(rate);
    }
  }
  const crashes = rt.crashes().length;
  await rt.shutdown();
  if (crashes !== 0) throw new Error(`${crashes} unexpected crashes`);
  return [
    makePairedRow({
      figure, unit: 'msg/s', baselineName: 'unsupervised', target: { on: 'ratio', op: '>=', value: 0.95 },
      runs: { troupe: runs[0], baseline: runs[1] },
    }),
    makePairedRow({ figure: `${figure.slice(0, 3)} control: unsupervised vs unsupervised`, unit: 'msg/s', baselineName: 'unsupervised', runs: { troupe: runs[2], baseline: runs[1] } }),
  ];
}

emit({
  rows: [
    ...(await configuration(0, '8a. supervised tell throughput, same thread')),
    ...(await configuration(1, '8b. supervised tell throughput, main -> worker')),
  ],
});
