// Figure T1: 10,000 fuzzed simulation runs of a 10-actor system (3 routers, 7 counters, one supervisor), each handling
// 100 messages from the test (plus the routers' 100 forwards and a few asks) under a fault plan drawn from its seed.
// Reported: wall time of the 10,000 runs (target < 60 s) and runs/s. Baseline, same process: the same system and the
// same 100 messages on a plain Runtime (workers: 0, real scheduler, no faults), per run, so the ratio says what the
// simulation costs over running the system for real.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { Simulation } from '../../testkit/index.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { children, drawPlan, ROUTERS, SUPERVISOR } from './system.ts';

const RUNS = Number(process.env.TROUPE_BENCH_FUZZ_RUNS ?? 10_000);
/** The driver gives a bench 120 s: past this, the runs stop and the 10,000-run time is projected from the rate. */
const BUDGET_MS = Number(process.env.TROUPE_BENCH_FUZZ_BUDGET_MS ?? 90_000);
const MESSAGES = 100;

async function simulated(seed: number): Promise<{ steps: number; crashes: number }> {
  const sim = await Simulation.start({ seed, faults: drawPlan(seed), maxDeliveryDelayMs: 2 });
  const sup = await sim.supervise({ ...SUPERVISOR, children: children() });
  const routers = ROUTERS.map((id) => sup.ref(id)!);
  for (let i = 0; i < MESSAGES; i++) {
    sim.tell(routers[i % routers.length], 'route', i);
    if (i % 25 === 24) sim.ask(routers[i % routers.length], 'probe').catch(() => undefined);
  }
  await sim.runUntilIdle();
  const out = { steps: sim.steps, crashes: sim.crashes.length };
  await sim.stop();
  return out;
}

async function real(): Promise<void> {
  const rt = await Runtime.start({ workers: 0 });
  const sup = await rt.supervise({ ...SUPERVISOR, children: children() });
  const routers = ROUTERS.map((id) => sup.ref(id)!);
  const asks: Promise<unknown>[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    rt.tell(routers[i % routers.length], 'route', i);
    if (i % 25 === 24) asks.push(rt.ask(routers[i % routers.length], 'probe'));
  }
  await Promise.all(asks);
  for (const r of routers) await rt.ask(r, 'probe'); // everything before it is handled (per-pair FIFO)
  await rt.shutdown();
}

// Warm up both, then time them.
for (let i = 0; i < 30; i++) await simulated(1_000_000 + i);
for (let i = 0; i < 30; i++) await real();

const t0 = performance.now();
let steps = 0;
let crashes = 0;
let done = 0;
for (let seed = 0; seed < RUNS && performance.now() - t0 < BUDGET_MS; seed++, done++) {
  const r = await simulated(seed);
  steps += r.steps;
  crashes += r.crashes;
}
const doneMs = performance.now() - t0;
const simMs = (doneMs / done) * RUNS; // = doneMs when every run was made
const REAL_RUNS = Math.min(RUNS, 500);
const t1 = performance.now();
for (let i = 0; i < REAL_RUNS; i++) await real();
const realMs = performance.now() - t1;

const perRunSim = simMs / RUNS;
const perRunReal = realMs / REAL_RUNS;
emit({
  rows: [
    makeRow({ figure: `T1. testkit: ${RUNS} fuzzed runs (10 actors x ${MESSAGES} messages, faults) wall time${done < RUNS ? ` (projected from ${done} runs)` : ''}; ${(RUNS / (simMs / 1000)).toFixed(0)} runs/s`, unit: 'ms', baselineName: `same workload on a plain Runtime x ${RUNS} (extrapolated from ${REAL_RUNS})`, target: { on: 'troupe', op: '<', value: 60_000 }, runs: { troupe: [simMs], baseline: [perRunReal * RUNS] } }),
    makeRow({ figure: 'T1. testkit: one fuzzed run (simulated)', unit: 'ms', baselineName: 'one run on a plain Runtime', runs: { troupe: [perRunSim], baseline: [perRunReal] } }),
  ],
  detail: { runs: RUNS, measuredRuns: done, measuredMs: doneMs, runsPerSecond: RUNS / (simMs / 1000), stepsPerRun: steps / done, crashesPerRun: crashes / done, stepsPerSecond: steps / (doneMs / 1000), realRuns: REAL_RUNS },
});
