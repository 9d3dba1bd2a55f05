// A /metrics scrape with 10,000 live actors on 2 workers (issue 10: < 50 ms), and what the live web view's feed
// costs with them (< 1 MB/s). Scrape: the time of a full GET /metrics over loopback (every thread answers a metrics
// request, the main thread aggregates and formats), median of 30 after 5 warmup scrapes; the baseline is the same
// scrape with no actors. View: bytes per second of /events over 5 s, while every actor gets a message every tick
// (their mailbox depth moves) and one in a hundred crashes and restarts, plus the whole view's size (a client's first
// message; the worst case per tick, were every row to change).
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { startOpsServer } from '../../ops/server.ts';
import { flaky } from '../../test/fixtures/flaky.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { TICK_MS } from '../../ops/view.ts';

const ACTORS = 10_000;

async function scrapeTimes(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 5 + n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/metrics`);
    await res.text();
    if (i >= 5) out.push(performance.now() - t0);
  }
  return out;
}

const rt = await Runtime.start({ workers: 2, stallMs: 0, spareWorker: false });
const server = await startOpsServer(rt, { port: 0 });
const empty = await scrapeTimes(server.url, 30);
const pool = await rt.supervise({
  id: 'pool', strategy: 'one-for-one', intensity: { maxRestarts: 1_000_000, withinMs: 1000 },
  children: Array.from({ length: ACTORS }, (_, i) => ({ id: `a${i}`, actor: flaky, pin: 1 + (i % 2) })),
});
const refs = Array.from({ length: ACTORS }, (_, i) => pool.ref<typeof flaky>(`a${i}`)!);
const full = await scrapeTimes(server.url, 30);
const text = await (await fetch(`${server.url}/metrics`)).text();
const live = [...text.matchAll(/^troupe_actors\{kind="flaky",status="running"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
if (live !== ACTORS) throw new Error(`metrics see ${live} running actors, expected ${ACTORS}`);

// The view: a client reads /events for 5 s under churn.
const ac = new AbortController();
const res = await fetch(`${server.url}/events`, { signal: ac.signal });
const reader = res.body!.getReader();
let bytes = 0;
let firstEvent = 0;
let sawFirst = false;
const read = (async () => {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!sawFirst) {
        sawFirst = true;
        firstEvent = value.byteLength;
      }
      bytes += value.byteLength;
    }
  } catch {
    // aborted
  }
})();
await new Promise((r) => setTimeout(r, 1500)); // the first (whole) view arrives
const whole = bytes;
const before = bytes;
let tick = 0;
const churn = setInterval(() => {
  tick++;
  for (let i = 0; i < ACTORS; i++) rt.tell(refs[i]!, 'add', 1);
  for (let i = tick % 100; i < ACTORS; i += 100) rt.tell(refs[i]!, 'crash', 'churn');
}, TICK_MS / 2);
const t0 = performance.now();
await new Promise((r) => setTimeout(r, 5000));
const busyBytesPerS = (bytes - before) / ((performance.now() - t0) / 1000);
clearInterval(churn);
ac.abort();
await read;
await server.close();
await rt.shutdown();
void firstEvent;

emit({
  rows: [
    makeRow({ figure: '11c. GET /metrics, 10,000 actors on 2 workers', unit: 'ms', baselineName: 'no actors', target: { on: 'troupe', op: '<', value: 50 }, runs: { troupe: full, baseline: empty } }),
    makeRow({
      figure: '11d. live view feed (B/s), 10,000 actors, all messaged and 1% crashing every 250 ms', unit: 'B', baselineName: 'whole view every tick',
      target: { on: 'troupe', op: '<', value: 1_000_000 }, runs: { troupe: [busyBytesPerS], baseline: [whole * (1000 / TICK_MS)] },
    }),
  ],
  detail: { viewWholeBytes: whole, viewBusyBytesPerS: Math.round(busyBytesPerS), viewWorstCaseBytesPerS: Math.round(whole * (1000 / TICK_MS)), tickMs: TICK_MS },
});
