// Figure 7: a worker thread hosting 1000 supervised actors dies (a handler calls process.exit); time until all
// 1000 answer an ask again, from their new incarnations on the replacement thread. workers: 2, all on worker 1.
//
// Timeline of one run, every mark observed from outside the runtime (public API only):
// - lost:     the dying actor's ask fails with ERR_WORKER_LOST (the main thread saw the thread exit)
// - ready:    the first crash report ('$exit'): the runtime reports the lost actors to their supervisor only once
//             the replacement thread has booted and is connected, so this marks the end of the worker boot. (Polling
//             rt.stats() for the thread would add load while it boots, and lags: its request waits behind the
//             respawn traffic on the new thread.)
// - decided:  the last of the 1000 crash reports (every restart decided; the actors already exist on the
//             replacement thread as stand-ins, not running, so this is a restart in place, not a respawn)
// - first:    the first actor (a0, the one that called process.exit) answers again
// - all:      every actor has answered an ask (asks failing with ERR_WORKER_LOST while the thread is down are
//             retried; once the stand-ins exist an ask is held until its actor runs again)
// Probing keeps the load it adds small: one ask per millisecond while the thread is down (to a0, then to the last
// actor restarted), then one concurrent ask to all 1000, failures retried after 1 ms. Hammering all 1000 every
// millisecond would slow what it measures (every failed ask costs an error with a stack trace on some thread).
//
// Baselines, same run: the worker boot alone (lost -> ready) for the total; for the respawn (ready -> all), 1000
// concurrent spawns of the same actor on the other, live worker.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import type { CrashReport } from '../../supervisors/index.ts';
import { phoenix } from '../actors.ts';
import { emit, gc } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 1_000;
const WARMUP = 1;
const RUNS = 5;
const SPARE_BOOT_MS = Number(process.env.TROUPE_BENCH_SPARE_MS ?? 1500);

type Ref = ActorRef<typeof phoenix>;

interface Marks {
  lost: number;
  ready: number;
  decided: number;
  first: number;
  all: number;
  /** Asks that failed and were retried, by error code. */
  retried: Record<string, number>;
  /** Baseline for the respawn: 1000 concurrent spawns of the same actor on the live worker. */
  spawn1000: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rt = await Runtime.start({ workers: 2, stallMs: 0 });
const sup = await rt.supervise({
  id: 'root', strategy: 'one-for-one', intensity: { maxRestarts: 1_000_000, withinMs: 1000 }, backoff: { minMs: 0 }, children: [],
});
for (let i = 0; i < N; i++) await sup.startChild({ id: `a${i}`, actor: phoenix, pin: 1 });
const refs: Ref[] = Array.from({ length: N }, (_, i) => sup.ref<typeof phoenix>(`a${i}`)!);
if (refs.some((r) => r.node !== 1)) throw new Error('every actor should be on worker 1');

let reports: { at: number; report: CrashReport }[] = [];
rt.onCrash((report) => reports.push({ at: performance.now(), report }));

/** Ask until it answers; failures the loss explains are retried after 1 ms, anything else is a bench failure. */
async function answer(ref: Ref, retried: Record<string, number>): Promise<number> {
  for (;;) {
    try {
      return await rt.ask(ref, 'get');
    } catch (err) {
      const code = (err as { code?: string }).code ?? String(err);
      if (code !== 'ERR_WORKER_LOST' && code !== 'ERR_ACTOR_NOT_FOUND') throw err;
      retried[code] = (retried[code] ?? 0) + 1;
      await sleep(1);
    }
  }
}

async function spawnBaseline(): Promise<number> {
  const t0 = performance.now();
  const spawned = await Promise.all(Array.from({ length: N }, () => rt.spawn(phoenix, { pin: 2 })));
  const ms = performance.now() - t0;
  await Promise.all(spawned.map((r) => rt.stop(r)));
  return ms;
}

async function run(): Promise<Marks> {
  // Known state: every actor counts 1, so a 0 afterwards proves the answer came from a new incarnation.
  for (const r of refs) rt.tell(r, 'add', 1);
  const before = await Promise.all(refs.map((r) => rt.ask(r, 'get')));
  if (before.some((c) => c !== 1)) throw new Error('actors not in their initial state before the kill');
  const spawn1000 = await spawnBaseline();
  gc();
  // Steady state: the spare worker that replaced the previous lost thread has been replaced by a booted one (a
  // worker boot with tsx takes 0.5-1 s here). Losses closer together than that pay a full boot (~250 ms more).
  await sleep(SPARE_BOOT_MS);
  reports = [];
  const retried: Record<string, number> = {};

  const t0 = performance.now();
  const died = rt.ask(refs[0], 'die').then(
    () => Promise.reject(new Error('die answered')),
    (err: { code?: string }) => {
      if (err.code !== 'ERR_WORKER_LOST') throw err;
      return performance.now();
    },
  );
  const lost = await died;
  // While the thread is down or the actors not yet respawned: probe the first, then the last restarted.
  const firstValue = await answer(refs[0], retried);
  const first = performance.now();
  await answer(refs[N - 1], retried);
  const values = await Promise.all(refs.map((r) => answer(r, retried)));
  const all = performance.now();

  if (firstValue !== 0 || values.some((v) => v !== 0)) throw new Error('an answer came from an old incarnation');
  const exits = reports.filter((r) => r.report.messageType === '$exit');
  if (exits.length !== N || reports.length !== N || exits.some((r) => r.report.decision !== 'restart')) {
    throw new Error(`expected ${N} '$exit' restarts, saw ${reports.length} reports: ${JSON.stringify(reports.slice(0, 3).map((r) => r.report))}`);
  }
  return {
    lost: lost - t0,
    ready: exits[0].at - t0,
    decided: exits[N - 1].at - t0,
    first: first - t0,
    all: all - t0,
    retried,
    spawn1000,
  };
}

const runs: Marks[] = [];
for (let round = 0; round < WARMUP + RUNS; round++) {
  const m = await run();
  if (round >= WARMUP) runs.push(m);
}
await rt.shutdown();

const series = (f: (m: Marks) => number) => runs.map(f);
emit({
  rows: [
    makeRow({
      figure: '7a. lost thread, 1000 supervised -> all answer', unit: 'ms', baselineName: 'worker boot', target: { on: 'troupe', op: '<=', value: 250 },
      runs: { troupe: series((m) => m.all), baseline: series((m) => m.ready - m.lost) },
    }),
    makeRow({
      figure: '7b. of which respawn (ready -> all answer)', unit: 'ms', baselineName: 'spawn 1000 live',
      runs: { troupe: series((m) => m.all - m.ready), baseline: series((m) => m.spawn1000) },
    }),
  ],
  detail: {
    actors: N,
    marksMs: 'from just before the dying ask; see the timeline at the top of bench/supervision/lost-thread.ts',
    runs,
  },
});
