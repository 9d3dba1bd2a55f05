// npm run bench: the kernel, supervision and persistence figures of Troupe, each next to a baseline measured in the
// same run, as one table on stdout and as bench/results/<group>.json (kernel.json, supervision.json,
// persistence.json). Every bench runs in its own process (see lib/child.ts). `npm run bench -- spawn restart` runs
// only the named ones (bench/<group>/<name>.ts); `npm run bench -- persistence` runs a whole group.
import './lib/env.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runKernel } from './lib/child.ts';
import { formatTable } from './lib/table.ts';
import { tableCells, type Row } from './lib/rows.ts';

const GROUPS = {
  kernel: ['tell-same-thread', 'tell-flat', 'tell-cross-thread', 'tell-cross-nested', 'ask-same-thread', 'ask-cross-thread', 'spawn'],
  supervision: ['restart', 'lost-thread', 'overhead'],
  persistence: ['durable', 'store', 'snapshot', 'resume'],
  router: ['throughput', 'balance', 'resilience', 'scale', 'choice'],
  agents: ['goodput', 'turn-overhead', 'agent-resume'],
  ops: ['metrics-overhead', 'scrape', 'tracing-overhead'],
  tasks: ['queue', 'throughput', 'critical-path'],
  testkit: ['fuzz', 'time-speedup', 'replay', 'threads', 'model-faults'],
  cluster: ['messaging', 'failover', 'failover-supervised', 'placement'],
};
type Group = keyof typeof GROUPS;
const KERNELS = (Object.keys(GROUPS) as Group[]).flatMap((group) => GROUPS[group].map((name) => ({ name, group })));
const KERNEL_TIMEOUT_MS = 120_000;

interface KernelReport {
  name: string;
  group: Group;
  ms: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  rows: Row[];
  detail?: unknown;
  error?: string;
}

const only = process.argv.slice(2);
const unknown = only.filter((a) => !(a in GROUPS) && !KERNELS.some((k) => k.name === a));
if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(GROUPS).join(', ')}, ${KERNELS.map((k) => k.name).join(', ')}`);
const selected = only.length > 0 ? KERNELS.filter((k) => only.includes(k.name) || only.includes(k.group)) : KERNELS;
const started = performance.now();
const reports: KernelReport[] = [];

console.log(`Troupe bench: node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load ${fmtLoad(loadavg())}`);
for (const { name, group } of selected) {
  const t0 = performance.now();
  const loadavgBefore = loadavg();
  process.stdout.write(`- ${group}/${name} ... `);
  try {
    const result = (await runKernel(`bench/${group}/${name}.ts`, KERNEL_TIMEOUT_MS)) as { rows: Row[]; detail?: unknown };
    reports.push({ name, group, ms: performance.now() - t0, loadavgBefore, loadavgAfter: loadavg(), rows: result.rows, detail: result.detail });
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    reports.push({ name, group, ms: performance.now() - t0, loadavgBefore, loadavgAfter: loadavg(), rows: [], error: String((err as Error).message ?? err) });
    console.log(`FAILED: ${(err as Error).message}`);
  }
}

const rows = reports.flatMap((r) => r.rows);
console.log();
console.log(formatTable(['figure', 'troupe', 'baseline', 'ratio', 'target', 'met?'], [
  ...rows.map(tableCells),
  ...reports.filter((r) => r.error).map((r) => [r.name, 'FAILED', '-', '-', '-', 'NO']),
]));
console.log('\nMedians of the measured runs (warmup runs dropped); ratio = troupe / baseline ((paired): median of the per-round ratios);');
console.log('baselines ran interleaved in the same process. Latencies (us) are per-run percentiles, then the median over runs.');
const met = rows.filter((r) => r.met === true).length;
const judged = rows.filter((r) => r.met !== undefined).length;
console.log(`${met}/${judged} targets met; total ${((performance.now() - started) / 1000).toFixed(1)} s; load ${fmtLoad(loadavg())} (on a busy host, re-run before trusting a miss).`);

// One file per group that ran (a partial run rewrites only the files of the groups it ran, with what it ran).
const outDir = new URL('./results/', import.meta.url);
mkdirSync(outDir, { recursive: true });
for (const group of Object.keys(GROUPS) as Group[]) {
  const ran = reports.filter((r) => r.group === group);
  if (ran.length === 0) continue;
  const file = new URL(`${group}.json`, outDir);
  writeFileSync(file, JSON.stringify({
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMs: performance.now() - started,
    rows: ran.flatMap((r) => r.rows),
    kernels: ran,
  }, null, 2));
  console.log(`wrote ${file.pathname}`);
}
if (reports.some((r) => r.error)) process.exitCode = 1;

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}
