// Figure 6: actor restart latency, "crash -> next message handled by the new incarnation".
//
// A supervised actor (phoenix, one-for-one, backoff minMs 0, an intensity that never runs out) is told 'crash' and,
// in the same batch, asked 'sinceStamp'. What is measured, per crash, several thousand times, with workers: 0
// (everything on the main thread) and workers: 2 (the actor on worker 1, its supervisor on the main thread):
//
// - 6a/6b, the target: time on the actor's own thread, from just before the crashing handler throws (the handler
//   reads performance.now() into a module-level variable, then builds and throws its Error) to the start of the
//   first handler of the new incarnation ('sinceStamp', already queued behind the crash), which returns the
//   difference: same thread, same clock, no skew. It covers the throw, the dead letter, the crash report being
//   built and queued, the restart (init) and the dispatch of the next message. The restart is made there under
//   restart credit (supervisors/policy/credit.ts); the supervisor counts it when the report arrives. With
//   workers: 0 that bookkeeping (intensity, backoff, the crash report and its listeners, fresh credit) runs
//   synchronously inside the figure; with workers: 2 it runs afterwards on the main thread, outside the figure. It
//   does not cover a message's trip to the actor or the reply's trip back. The reply must show count 0 (a fresh
//   incarnation). Baseline: the same pair of messages without a crash ('stamp', then 'sinceStamp').
// - 6c, report only: the round trip seen from the main thread, from just before the crashing tell to the reply of
//   the ask that follows it (with workers: 2 that is two thread hops plus the above). Baseline: a plain ask round
//   trip to the same actor, sampled in the same loop.
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
  /** Crash -> next message handled, on the actor's thread. */
  onThread: Latency;
  /** The same two messages without a crash. */
  nextMessage: Latency;
  /** Tell crash + ask, round trip from the main thread. */
  roundTrip: Latency;
  ask: Latency;
}

interface Config {
  runs: Run[];
  crashes: number;
  decisions: Record<string, number>;
  /** Restarts made on the actor's thread under credit (the others waited for the supervisor). */
  localRestarts: number;
}

async function configuration(workers: number): Promise<Config> {
  const rt = await Runtime.start({ workers, stallMs: 0 });
  const decisions: Record<string, number> = {};
  let crashes = 0;
  let localRestarts = 0;
  rt.onCrash((r) => {
    crashes++;
    if (r.local) localRestarts++;
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
  return { runs, crashes, decisions, localRestarts };
}

/**
 * One run: per iteration, put the actor in a known state (untimed), time a plain ask and the no-crash message pair
 * (baselines), then the crash and the message behind it. The reply must come from a fresh incarnation (count 0).
 */
async function sample(rt: Runtime, ref: ActorRef<typeof phoenix>): Promise<Run> {
  const onThreadUs = new Array<number>(CRASHES);
  const nextUs = new Array<number>(CRASHES);
  const roundTripUs = new Array<number>(CRASHES);
  const askUs = new Array<number>(CRASHES);
  for (let i = 0; i < CRASHES; i++) {
    await rt.ask(ref, 'add', 1);
    let t0 = performance.now();
    const before = await rt.ask(ref, 'get');
    askUs[i] = (performance.now() - t0) * 1000;
    rt.tell(ref, 'stamp');
    const next = await rt.ask(ref, 'sinceStamp');
    nextUs[i] = next.us;
    t0 = performance.now();
    rt.tell(ref, 'crash');
    const after = await rt.ask(ref, 'sinceStamp');
    roundTripUs[i] = (performance.now() - t0) * 1000;
    onThreadUs[i] = after.us;
    if (before !== 1 || next.count !== 1 || after.count !== 0) {
      throw new Error(`iteration ${i}: count ${before} / ${next.count} before the crash, ${after.count} after (expected 1, 0)`);
    }
  }
  return { onThread: latency(onThreadUs), nextMessage: latency(nextUs), roundTrip: latency(roundTripUs), ask: latency(askUs) };
}

const w0 = await configuration(0);
const w2 = await configuration(2);

const onThread = (runs: Run[], k: keyof Latency) => ({ troupe: runs.map((r) => r.onThread[k]), baseline: runs.map((r) => r.nextMessage[k]) });
const roundTrip = (runs: Run[], k: keyof Latency) => ({ troupe: runs.map((r) => r.roundTrip[k]), baseline: runs.map((r) => r.ask[k]) });
const target = { on: 'troupe', op: '<=', value: 100 } as const;
const next = 'next message, no crash';
emit({
  rows: [
    makeRow({ figure: '6a. restart: crash -> next message handled by the new incarnation (on its thread) p50, workers: 0', unit: 'us', baselineName: next, target, runs: onThread(w0.runs, 'p50') }),
    makeRow({ figure: '6a. restart: crash -> next message handled (on its thread) p99, workers: 0', unit: 'us', baselineName: next, runs: onThread(w0.runs, 'p99') }),
    makeRow({ figure: '6b. restart: crash -> next message handled by the new incarnation (on its thread) p50, workers: 2', unit: 'us', baselineName: next, target, runs: onThread(w2.runs, 'p50') }),
    makeRow({ figure: '6b. restart: crash -> next message handled (on its thread) p99, workers: 2', unit: 'us', baselineName: next, runs: onThread(w2.runs, 'p99') }),
    makeRow({ figure: '6c. restart round trip from the main thread (tell crash + ask -> reply) p50, workers: 0', unit: 'us', baselineName: 'plain ask', runs: roundTrip(w0.runs, 'p50') }),
    makeRow({ figure: '6c. restart round trip from the main thread p99, workers: 0', unit: 'us', baselineName: 'plain ask', runs: roundTrip(w0.runs, 'p99') }),
    makeRow({ figure: '6c. restart round trip from the main thread (tell crash + ask -> reply) p50, workers: 2', unit: 'us', baselineName: 'plain ask', runs: roundTrip(w2.runs, 'p50') }),
    makeRow({ figure: '6c. restart round trip from the main thread p99, workers: 2', unit: 'us', baselineName: 'plain ask', runs: roundTrip(w2.runs, 'p99') }),
  ],
  detail: {
    crashesPerRun: CRASHES,
    measuredRuns: RUNS,
    workers0: { crashReports: w0.crashes, decisions: w0.decisions, localRestarts: w0.localRestarts, runs: w0.runs },
    workers2: { crashReports: w2.crashes, decisions: w2.decisions, localRestarts: w2.localRestarts, runs: w2.runs },
  },
});
