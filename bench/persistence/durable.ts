// Durably acknowledged messages/s with 1, 10 and 100 durable actors (send resolves once journaled; the closing
// asks resolve once every state change is on disk), vs raw lmdb-js group-commit puts of the same size awaited
// until flushed, in the same process.
import '../lib/env.ts';
import { open } from 'lmdb';
import { Runtime } from '../../runtime/index.ts';
import { ENV_OPTIONS } from '../../persistence/index.ts';
import { durableTally } from '../actors.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { dataDir } from './tmp.ts';

const N = 20_000;
const PER_TURN = 1_000;
const payload = { text: 'x'.repeat(60), n: 42, ok: true }; // ~100 B encoded

async function raw(): Promise<number> {
  const d = dataDir();
  const root = open({ path: d.dir, ...ENV_OPTIONS });
  const db = root.openDB('raw', {});
  const t0 = performance.now();
  for (let i = 0; i < N; ) {
    const end = Math.min(N, i + PER_TURN);
    for (; i < end; i++) db.put(['actor', i], { id: `m${i}`, type: 't', payload });
    await db.flushed;
  }
  const rate = N / ((performance.now() - t0) / 1000);
  await root.close();
  d.remove();
  return rate;
}

async function troupe(actors: number, workers: number): Promise<number> {
  const d = dataDir();
  const rt = await Runtime.start({ workers, dataDir: d.dir, stallMs: 0, spareWorker: false });
  const refs = await Promise.all(Array.from({ length: actors }, (_, i) => rt.spawn(durableTally, { id: `a${i}`, pin: workers })));
  const t0 = performance.now();
  for (let i = 0; i < N; ) {
    const batch: Promise<unknown>[] = [];
    const end = Math.min(N, i + PER_TURN);
    for (; i < end; i++) batch.push(rt.send(refs[i % actors], 'add', 1));
    await Promise.all(batch);
  }
  const counts = await Promise.all(refs.map((r) => rt.ask(r, 'get')));
  const rate = N / ((performance.now() - t0) / 1000);
  if (counts.reduce((a, b) => a + b, 0) !== N) throw new Error(`counted ${counts.reduce((a, b) => a + b, 0)}, sent ${N}`);
  await rt.shutdown();
  d.remove();
  return rate;
}

const rows = [];
for (const actors of [1, 10, 100]) {
  const runs = await interleave({ warmup: 1, runs: 3 }, { troupe: () => troupe(actors, 1), raw });
  rows.push(makeRow({
    figure: `9${'abc'[[1, 10, 100].indexOf(actors)]}. durable acks, ${actors} actor${actors > 1 ? 's' : ''} (worker)`, unit: 'msg/s',
    baselineName: 'raw lmdb group commit', target: actors === 100 ? { on: 'ratio', op: '>=', value: 0.5 } : undefined,
    runs: { troupe: runs.troupe, baseline: runs.raw },
  }));
}
emit({ rows });
