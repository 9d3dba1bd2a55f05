// Figure 6: actor restart latency. A supervised actor is told 'crash' (its handler throws) and asked 'get' right
// away: the get is held in the mailbox while the supervisor (on the main thread) decides, and is answered by the
// new incarnation. Timed from just before the crashing tell to the get's reply, several thousand crashes, with
// workers: 0 (everything on the main thread) and workers: 2 with the actor on worker 1 (crash report and restart
// decision cross threads). Baseline: a plain ask round trip to the same actor, sampled in the same loop.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import { phoenix } from '../actors.ts';
import { emit, gc } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { latency, type Latency } from '../lib/stats.ts';

/** Crashes per run; warmup runs are dropped, so RUNS * CRASHES restarts are measured per configuration. */
const CRASHES = 1_000;
const WARMUP = 1;
const RUNS = 5;

interface Run {
  restart: Latency;
  ask: Latency;
}

async function configuration(workers: number): Promise<{ runs: Run[]; crashes: number; decisions: Record<string, number> }> {
  const rt = await Runtime.start({ workers, stallMs: 0 });
  const decisions: Record<string, number> = {};
  let crashes = 0;
  rt.onCrash((r) => {
    crashes++;
    decisions[r.decision] = (decisions[r.decision] ?? 0) + 1;
  });
  const sup = await rt.supervise({
    id: 'root', strategy: 'one-for-one', intensity: { maxRestarts: 1_000_000, withinMs: 1000 }, backoff: { minMs: 0 },
    children: [{ id: 'phoenix', actor: phoenix, pin: workers > 0 ? 1 : 0 }],
  });
  const ref = sup.ref<typeof phoenix>('phoenix')!;
  if (ref.node !== (workers > 0 ? 1 : 0)) throw new Error(`phoenix placed on node ${ref.node}`);
  const runs: Run[] = [];
  for (let round = 0; round < WARMUP + RUNS; round++) {
    gc();
    const r = await sample(rt, ref);
    if (round >= WARMUP) runs.push(r);
  }
  const expected = (WARMUP + RUNS) * CRASHES;
  if (crashes !== expected || decisions.restart !== expected) throw new Error(`expected ${expected} restarts, saw ${crashes} crash reports ${JSON.stringify(decisions)}`);
  await rt.shutdown();
  return { runs, crashes, decisions };
}

/**
 * One run: per iteration, put the actor in a known state (untimed), time a plain ask (baseline), then time the
 * crash and the ask that follows it. The reply must come from a fresh incarnation (count back at 0).
 */
async function sample(rt: Runtime, ref: ActorRef<typeof phoenix>): Promise<Run> {
  const restartUs = new Array<number>(CRASHES);
  const askUs = new Array<number>(CRASHES);
  for (let i = 0; i < CRASHES; i++) {
    await rt.ask(ref, 'add', 1);
    let t0 = performance.now();
    const before = await rt.ask(ref, 'get');
    askUs[i] = (performance.now() - t0) * 1000;
    t0 = performance.now();
    rt.tell(ref, 'crash');
    const after = await rt.ask(ref, 'get');
    restartUs[i] = (performance.now() - t0) * 1000;
    if (before !== 1 || after !== 0) throw new Error(`iteration ${i}: count ${before} before the crash, ${after} after (expected 1, 0)`);
  }
  return { restart: latency(restartUs), ask: latency(askUs) };
}

const w0 = await configuration(0);
const w2 = await configuration(2);

const pick = (runs: Run[], k: keyof Latency) => ({ troupe: runs.map((r) => r.restart[k]), baseline: runs.map((r) => r.ask[k]) });
const target = { on: 'troupe', op: '<=', value: 100 } as const;
emit({
  rows: [
    makeRow({ figure: '6a. restart (crash -> next reply) p50, workers: 0', unit: 'us', baselineName: 'plain ask', target, runs: pick(w0.runs, 'p50') }),
    makeRow({ figure: '6a. restart (crash -> next reply) p99, workers: 0', unit: 'us', baselineName: 'plain ask', runs: pick(w0.runs, 'p99') }),
    makeRow({ figure: '6b. restart (crash -> next reply) p50, workers: 2', unit: 'us', baselineName: 'plain ask', target, runs: pick(w2.runs, 'p50') }),
    makeRow({ figure: '6b. restart (crash -> next reply) p99, workers: 2', unit: 'us', baselineName: 'plain ask', runs: pick(w2.runs, 'p99') }),
  ],
  detail: {
    crashesPerRun: CRASHES,
    measuredRuns: RUNS,
    workers0: { crashReports: w0.crashes, decisions: w0.decisions, runs: w0.runs },
    workers2: { crashReports: w2.crashes, decisions: w2.decisions, runs: w2.runs },
  },
});
