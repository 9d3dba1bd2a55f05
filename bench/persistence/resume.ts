// Figure 11: resume. A runtime spawns 10k persistent actors (snapshot after every message) with fixed ids on a
// fresh data directory, gives each its own state (one ask 'add' i), and shuts down. A new runtime on the same
// directory then spawns the 10k ids again (each restores its snapshot) and asks each one 'get': timed from the
// first spawn to the last answer (the runtime's own start is not timed), and every answer is checked against the
// state written before the shutdown. On the calling thread (workers: 0) and on worker 1 (workers: 1; every spawn
// and ask crosses threads). Reference, in the same new runtime (alternating which goes first): 10k spawns of the
// same actor without persistence, and an ask to each. No target: the figure is reported.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorDefinition, ActorRef } from '../../runtime/index.ts';
import { plainTally, snapshotTally } from '../actors.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit, gc } from '../lib/measure.ts';
import { makePairedRow, type Row } from '../lib/rows.ts';

const N = 10_000;
const CHUNK = 1_000;
const RUNS = 3;

async function spawnAll<D extends ActorDefinition>(rt: Runtime, def: D, prefix: string, pin: number): Promise<ActorRef<D>[]> {
  const refs: ActorRef<D>[] = [];
  for (let done = 0; done < N; done += CHUNK) {
    const chunk: Promise<ActorRef<D>>[] = [];
    for (let i = done; i < Math.min(N, done + CHUNK); i++) chunk.push(rt.spawn(def, { id: `${prefix}${i}`, pin }));
    refs.push(...(await Promise.all(chunk)));
  }
  return refs;
}

/** Spawn the N ids of `def`, then one ask 'get' each; ms from the first spawn to the last answer. */
async function spawnAndAsk(rt: Runtime, def: typeof snapshotTally | typeof plainTally, prefix: string, pin: number, expect: (i: number) => number): Promise<number> {
  gc();
  const t0 = performance.now();
  const refs = await spawnAll(rt, def as typeof snapshotTally, prefix, pin);
  const counts = await Promise.all(refs.map((r) => rt.ask(r, 'get', undefined, { timeoutMs: 30_000 })));
  const ms = performance.now() - t0;
  const wrong = counts.findIndex((c, i) => c !== expect(i));
  if (wrong >= 0) throw new Error(`${prefix}${wrong} answered ${counts[wrong]}, expected ${expect(wrong)}`);
  return ms;
}

async function configuration(workers: number, figure: string): Promise<Row> {
  const pin = workers > 0 ? 1 : 0;
  const resumed: number[] = [];
  const fresh: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await withDataDir(async (dataDir) => {
      const options = { workers, dataDir, stallMs: 0, spareWorker: false };
      const first = await Runtime.start(options);
      try {
        const refs = await spawnAll(first, snapshotTally, 'resume-', pin);
        await Promise.all(refs.map((r, i) => first.ask(r, 'add', i, { timeoutMs: 30_000 })));
      } finally {
        await first.shutdown();
      }
      const rt = await Runtime.start(options);
      try {
        const resume = () => spawnAndAsk(rt, snapshotTally, 'resume-', pin, (i) => i);
        const plain = () => spawnAndAsk(rt, plainTally, 'plain-', pin, () => 0);
        if (run % 2 === 0) {
          resumed.push(await resume());
          fresh.push(await plain());
        } else {
          fresh.push(await plain());
          resumed.push(await resume());
        }
      } finally {
        await rt.shutdown();
      }
    });
  }
  return makePairedRow({ figure, unit: 'ms', baselineName: '10k spawns, no persistence', runs: { troupe: resumed, baseline: fresh } });
}

emit({
  rows: [
    await configuration(0, '11a. resume 10k persistent actors -> all answer, same thread'),
    await configuration(1, '11b. resume 10k persistent actors -> all answer, on a worker'),
  ],
  detail: { actors: N, chunk: CHUNK, runs: RUNS },
});
