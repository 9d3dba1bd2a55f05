// Figure T4: simulated worker threads. The fuzz bench's system (7 counters and 3 routers, 100 messages, a fault plan
// from the seed) on 2 simulated threads, with one of them lost at a time drawn from the seed (its actors restarted on
// the replacement by their supervisor), per run; the same 100 seeds replayed give the same trace hashes (checked).
// Baseline, same process: the same runs with every actor on the main thread (threads: 0, no thread loss).
import '../lib/env.ts';
import { Simulation, type Fault } from '../../testkit/index.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { COUNTERS, ROUTERS, SUPERVISOR, drawPlan, routerActor, tallyActor } from './system.ts';

const RUNS = Number(process.env.TROUPE_BENCH_THREAD_RUNS ?? 1000);

let lost = 0;
async function run(seed: number, threads: number): Promise<string> {
  const plan: Fault[] = drawPlan(seed);
  if (threads > 0) plan.push({ kind: 'lose-thread', thread: 1 + (seed % threads), atMs: 40 + (seed % 40) }); // after setup: a thread lost while a child starts fails supervise()
  const sim = await Simulation.start({ seed, threads, faults: plan, maxDeliveryDelayMs: 2 });
  // Counters first, so the routers get refs that name the threads they were placed on.
  const counters = await sim.supervise({ ...SUPERVISOR, id: 'counters', children: COUNTERS.map((id) => ({ id, actor: tallyActor })) });
  const to = COUNTERS.map((id) => counters.ref(id)!);
  const routers = await sim.supervise({ ...SUPERVISOR, id: 'routers', children: ROUTERS.map((id) => ({ id, actor: routerActor, args: { to } })) });
  const refs = ROUTERS.map((id) => routers.ref(id)!);
  for (let i = 0; i < 100; i++) {
    sim.tell(refs[i % refs.length], 'route', i);
    if (i % 25 === 24) sim.ask(refs[i % refs.length], 'probe').catch(() => undefined);
  }
  await sim.runUntilIdle();
  const hash = sim.hash();
  lost += sim.threadsLost;
  await sim.stop();
  return hash;
}

for (let i = 0; i < 20; i++) {
  await run(1_000_000 + i, 2);
  await run(1_000_000 + i, 0);
}
const timed = async (threads: number): Promise<{ ms: number; hashes: string[] }> => {
  const hashes: string[] = [];
  const t0 = performance.now();
  for (let seed = 0; seed < RUNS; seed++) hashes.push(await run(seed, threads));
  return { ms: performance.now() - t0, hashes };
};
lost = 0;
const threaded = await timed(2);
const lostPerRun = lost / RUNS;
const single = await timed(0);
const again: string[] = [];
const REPLAYS = Math.min(100, RUNS);
for (let seed = 0; seed < REPLAYS; seed++) again.push(await run(seed, 2));
const replayed = again.filter((h, i) => h === threaded.hashes[i]).length / again.length;
emit({
  rows: [
    makeRow({ figure: `T4. testkit: one fuzzed run on 2 simulated threads with a lost thread (10 actors x 100 messages); ${(RUNS / (threaded.ms / 1000)).toFixed(0)} runs/s`, unit: 'ms', baselineName: 'the same run, every actor on the main thread (simulated)', runs: { troupe: [threaded.ms / RUNS], baseline: [single.ms / RUNS] } }),
  ],
  detail: { runs: RUNS, threadedMs: threaded.ms, singleMs: single.ms, threadsLostPerRun: lostPerRun, replayedIdentical: replayed },
});
