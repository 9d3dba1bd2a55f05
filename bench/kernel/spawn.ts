// Figure 5: spawn 100k idle actors (Promise.all in chunks), time and heap per actor, on the main thread alone
// (workers: 0) and spread over two workers (workers: 2), vs nact spawning as many actors on the calling thread.
// Heap per actor is the heap growth summed over every thread involved (the main thread keeps the registry),
// each measured after a full gc: on workers by a probe actor, since only code on a thread can collect its heap.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import { heapProbe, tally } from '../actors.ts';
import { nactSystem } from '../lib/nact.ts';
import { emit, gc, hasGc, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 100_000;
const CHUNK = 1_000;
/** Spawned first and left running: loads the definition on each worker and warms the spawn path. */
const WARM = 2_000;

interface SpawnRun {
  ms: number;
  bytesPerActor: number;
  /** Heap growth per actor on each thread (index = node). */
  perNode: number[];
}

async function spawnMany(rt: Runtime, n: number): Promise<void> {
  for (let done = 0; done < n; done += CHUNK) {
    const chunk: Promise<unknown>[] = [];
    for (let i = done; i < Math.min(n, done + CHUNK); i++) chunk.push(rt.spawn(tally));
    await Promise.all(chunk);
  }
}

async function heapOf(rt: Runtime, probes: ActorRef<typeof heapProbe>[]): Promise<number[]> {
  const workers: number[] = [];
  for (const p of probes) workers.push((await rt.ask(p, 'heap')).heapUsed);
  gc();
  return [process.memoryUsage().heapUsed, ...workers];
}

async function troupe(workers: number): Promise<SpawnRun> {
  const rt = await Runtime.start({ workers });
  const probes: ActorRef<typeof heapProbe>[] = [];
  for (let node = 1; node <= workers; node++) probes.push(await rt.spawn(heapProbe, { pin: node }));
  await spawnMany(rt, WARM);
  const before = await heapOf(rt, probes);
  const t0 = performance.now();
  await spawnMany(rt, N);
  const ms = performance.now() - t0;
  const after = await heapOf(rt, probes);
  const stats = await rt.stats({ actors: false });
  const count = stats.nodes.reduce((sum, n) => sum + n.actorCount, 0);
  if (count !== N + WARM + workers) throw new Error(`expected ${N + WARM + workers} actors, stats counts ${count}`);
  await rt.shutdown();
  const perNode = after.map((a, i) => (a - before[i]) / N);
  return { ms, bytesPerActor: perNode.reduce((a, b) => a + b, 0), perNode };
}

async function nact(): Promise<SpawnRun> {
  const sys = nactSystem();
  for (let i = 0; i < WARM; i++) sys.idle(i);
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sys.idle(WARM + i);
  const ms = performance.now() - t0;
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / N;
  sys.stop();
  return { ms, bytesPerActor: bytes, perNode: [bytes] };
}

const runs = await interleave({ warmup: 1, runs: 3 }, {
  w0: () => troupe(0),
  w2: () => troupe(2),
  nact,
});

const series = (k: 'ms' | 'bytesPerActor', r: SpawnRun[]) => r.map((x) => x[k]);
emit({
  rows: [
    makeRow({ figure: '5a. spawn 100k actors, workers: 0', unit: 'ms', baselineName: 'nact', target: { on: 'troupe', op: '<', value: 1000 }, runs: { troupe: series('ms', runs.w0), baseline: series('ms', runs.nact) } }),
    makeRow({ figure: '5b. spawn 100k actors, workers: 2', unit: 'ms', baselineName: 'nact', target: { on: 'troupe', op: '<', value: 1000 }, runs: { troupe: series('ms', runs.w2), baseline: series('ms', runs.nact) } }),
    makeRow({ figure: '5c. heap per idle actor, workers: 0', unit: 'B', baselineName: 'nact', target: { on: 'troupe', op: '<=', value: 1024 }, runs: { troupe: series('bytesPerActor', runs.w0), baseline: series('bytesPerActor', runs.nact) } }),
    makeRow({ figure: '5d. heap per idle actor, workers: 2', unit: 'B', baselineName: 'nact', target: { on: 'troupe', op: '<=', value: 1024 }, runs: { troupe: series('bytesPerActor', runs.w2), baseline: series('bytesPerActor', runs.nact) } }),
  ],
  detail: { gcExposed: hasGc, heapPerNodeWorkers2: runs.w2.map((r) => r.perNode), heapPerNodeWorkers0: runs.w0.map((r) => r.perNode) },
});
