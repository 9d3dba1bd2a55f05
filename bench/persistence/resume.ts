// Resume: 10k persistent actors with state, runtime shut down; a new runtime on the same data directory spawns
// them again (each restores its snapshot) and every one answers an ask. Baseline: the same 10k spawned fresh.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { snapshotTally } from '../actors.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { dataDir } from './tmp.ts';

const N = 10_000;
const CHUNK = 1_000;

async function spawnAll(rt: Runtime, prefix: string): Promise<ReturnType<typeof rt.spawn<typeof snapshotTally>> extends Promise<infer R> ? R[] : never> {
  const refs = [];
  for (let i = 0; i < N; i += CHUNK) {
    refs.push(...(await Promise.all(Array.from({ length: CHUNK }, (_, k) => rt.spawn(snapshotTally, { id: `${prefix}${i + k}` })))));
  }
  return refs;
}

const resume: number[] = [];
const fresh: number[] = [];
for (let run = 0; run < 3; run++) {
  const d = dataDir();
  let rt = await Runtime.start({ workers: 2, dataDir: d.dir, stallMs: 0, spareWorker: false });
  const refs = await spawnAll(rt, 'p');
  await Promise.all(refs.map((r, i) => rt.ask(r, 'add', i)));
  await rt.shutdown();

  rt = await Runtime.start({ workers: 2, dataDir: d.dir, stallMs: 0, spareWorker: false });
  let t0 = performance.now();
  const back = await spawnAll(rt, 'p');
  const counts = await Promise.all(back.map((r) => rt.ask(r, 'get')));
  resume.push(performance.now() - t0);
  if (counts.some((c, i) => c !== i)) throw new Error('a resumed actor lost its state');
  t0 = performance.now();
  const others = await spawnAll(rt, 'q');
  await Promise.all(others.map((r) => rt.ask(r, 'get')));
  fresh.push(performance.now() - t0);
  await rt.shutdown();
  d.remove();
}
emit({
  rows: [makeRow({ figure: '11. resume 10k persistent actors -> all answer', unit: 'ms', baselineName: '10k fresh spawns', runs: { troupe: resume, baseline: fresh } })],
});
