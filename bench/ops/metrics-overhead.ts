// What metrics collection costs tell throughput (issue 10: <= 5%). Two runtimes in this process, one with metrics
// on (the default: per-slice counters on every thread) and an ops server, the other with `metrics: false` and no
// server. Each round tells 200k messages to a counting actor in each, interleaved, on the calling thread
// (workers: 0) and from the main thread to a worker (workers: 1). Ratio: median over rounds of on / off (paired).
// The server is scraped between rounds, not during them: a scrape's own cost (11c: ~20-30 ms of the main thread
// for 10,000 actors, a few ms for a handful) falls every 15 s under Prometheus, and landing in a random ~15-150 ms
// round it would measure the scrape's timing, not the counters' cost.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import { startOpsServer } from '../../ops/server.ts';
import { tally } from '../actors.ts';
import { emit, gc } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';

const N = 200_000;
const WARMUP = 3;
const RUNS = 20;

async function configuration(workers: number, figure: string) {
  const pin = workers > 0 ? 1 : 0;
  const on = await Runtime.start({ workers, stallMs: 0, spareWorker: false });
  const off = await Runtime.start({ workers, stallMs: 0, spareWorker: false, metrics: false });
  const server = await startOpsServer(on, { port: 0 });
  let scrapes = 0;
  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`);
    if (!res.ok) throw new Error(`scrape: HTTP ${res.status}`);
    await res.text();
    scrapes++;
  };
  const sides = { on: { rt: on, ref: await on.spawn(tally, { pin }) }, off: { rt: off, ref: await off.spawn(tally, { pin }) } };
  const totals = new Map<string, number>();

  async function tells(rt: Runtime, ref: ActorRef<typeof tally>, key: string): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
    const count = await rt.ask(ref, 'get');
    const s = (performance.now() - t0) / 1000;
    const expected = (totals.get(key) ?? 0) + N;
    totals.set(key, expected);
    if (count !== expected) throw new Error(`${key} counted ${count}, expected ${expected}`);
    return N / s;
  }

  const runs = { on: [] as number[], off: [] as number[] };
  for (let round = 0; round < WARMUP + RUNS; round++) {
    const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    await scrape();
    for (const side of order) {
      gc();
      const rate = await tells(sides[side].rt, sides[side].ref, side);
      if (round >= WARMUP) runs[side].push(rate);
    }
  }
  // The counters saw every message: what the 'on' side's scrape says must match what was sent.
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const handled = [...text.matchAll(/troupe_messages_handled_total\{kind="bench-tally",type="[^"]*",outcome="ok"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const expected = (WARMUP + RUNS) * (N + 1);
  if (handled !== expected) throw new Error(`metrics counted ${handled} messages handled, expected ${expected}`);
  await server.close();
  await on.shutdown();
  await off.shutdown();
  return makePairedRow({
    figure: `${figure} (${scrapes} scrapes between rounds)`, unit: 'msg/s', baselineName: 'metrics off', target: { on: 'ratio', op: '>=', value: 0.95 },
    runs: { troupe: runs.on, baseline: runs.off },
  });
}

emit({
  rows: [
    await configuration(0, '11a. tell throughput with metrics on, same thread'),
    await configuration(1, '11b. tell throughput with metrics on, main -> worker'),
  ],
});
