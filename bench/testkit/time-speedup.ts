// Figure T2: simulated time versus real time for a system dominated by timers: a supervised child that crashes
// over and over, restarted after exponential backoffs (100 ms doubling to 800 ms), its circuit opening (reset 500 ms
// doubling to 2 s) and half-opening, while a client keeps asking it. The same scenario runs on a real Runtime
// (workers: 0, system clock) as the baseline, in the same process; the speed-up is real wall time / simulated wall
// time (goal > 1000x). Both runs handle the same crashes and decisions (counted in the detail).
import '../lib/env.ts';
import { Runtime, defineActor } from '../../runtime/index.ts';
import { Simulation } from '../../testkit/index.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

export const flaky = defineActor({
  kind: 'bench-flaky',
  init: () => ({ n: 0 }),
  handlers: {
    boom: () => {
      throw new Error('boom');
    },
    ok: (state) => ++state.n,
  },
});

const CRASHES = 12;
/** The supervisor, every duration times `scale`. */
const spec = (scale: number) => ({
  id: 'sup', strategy: 'one-for-one' as const, onExhausted: 'open-circuit' as const,
  intensity: { maxRestarts: 2, withinMs: 1000 * scale },
  backoff: { minMs: 100 * scale, maxMs: 800 * scale, randomFactor: 0, resetAfterMs: 10_000 * scale },
  circuit: { resetMs: 500 * scale, maxResetMs: 2000 * scale, multiplier: 2 },
  children: [{ id: 'f', actor: flaky }],
});

/** Crash it CRASHES times, waiting out each backoff or circuit with asks until it answers again. */
async function scenario(ask: (type: 'boom' | 'ok') => Promise<unknown>, wait: (ms: number) => Promise<void>, scale: number): Promise<number> {
  let waits = 0;
  for (let i = 0; i < CRASHES; i++) {
    await ask('boom').catch(() => undefined);
    for (;;) {
      const ok = await ask('ok').then(() => true, () => false);
      if (ok) break;
      await wait(50 * scale);
      waits++;
    }
  }
  return waits;
}

async function simulated(scale: number): Promise<{ ms: number; virtualMs: number; crashes: number; waits: number }> {
  const t0 = performance.now();
  const sim = await Simulation.start({ seed: 42 });
  const sup = await sim.supervise(spec(scale));
  const f = sup.ref<typeof flaky>('f')!;
  const waits = await scenario((type) => sim.call(f, type, undefined, { timeoutMs: 100 * scale }), (ms) => sim.advance(ms), scale);
  const out = { virtualMs: sim.now, crashes: sim.crashes.length, waits };
  await sim.stop();
  return { ms: performance.now() - t0, ...out };
}

async function real(): Promise<{ ms: number; crashes: number; waits: number }> {
  // The runtime's timers never keep the process alive (runtime/clock.ts): this one does, while the scenario runs.
  const keepAlive = setInterval(() => undefined, 1000);
  const t0 = performance.now();
  const rt = await Runtime.start({ workers: 0 });
  let crashes = 0;
  rt.onCrash(() => crashes++);
  const sup = await rt.supervise(spec(1));
  const f = sup.ref<typeof flaky>('f')!;
  const waits = await scenario((type) => rt.ask(f, type, undefined, { timeoutMs: 100 }), (ms) => new Promise((r) => setTimeout(r, ms)), 1);
  await rt.shutdown();
  clearInterval(keepAlive);
  return { ms: performance.now() - t0, crashes, waits };
}

const SCALE = 100;
await simulated(1); // warm-up
await simulated(SCALE);
const reals = [await real()];
const same = [await simulated(1), await simulated(1), await simulated(1)];
const long = [await simulated(SCALE), await simulated(SCALE), await simulated(SCALE)];
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Timer-bound: the real run's wall time follows its timers, so at SCALE it would take SCALE times as long.
const realPerVirtual = reals[0].ms / same[0].virtualMs;
emit({
  rows: [
    makeRow({
      figure: `T2a. testkit: timer-dominated system (${CRASHES} crashes, backoffs 0.1-0.8 s, circuit resets 0.5-2 s; ${same[0].virtualMs} ms of timers), simulated wall time`,
      unit: 'ms', baselineName: 'the same scenario on a real Runtime (system clock), measured', runs: { troupe: same.map((s) => s.ms), baseline: reals.map((r) => r.ms) },
    }),
    makeRow({
      figure: `T2b. testkit: the same with every timer x${SCALE} (backoffs to 80 s, circuit resets to 200 s; ${long[0].virtualMs / 1000} s of timers), simulated wall time; speed-up = 1 / ratio`,
      unit: 'ms', baselineName: `real Runtime: the measured run's wall time per timer ms x ${long[0].virtualMs} ms`, target: { on: 'ratio', op: '<', value: 0.001 },
      runs: { troupe: long.map((s) => s.ms), baseline: [realPerVirtual * long[0].virtualMs] },
    }),
  ],
  detail: { same, long, real: reals, speedupSame: reals[0].ms / med(same.map((s) => s.ms)), speedupScaled: (realPerVirtual * long[0].virtualMs) / med(long.map((s) => s.ms)) },
});
