// npm run bench: the kernel figures of Troupe, each next to a baseline measured in the same run, as a table on
// stdout and as bench/results/kernel.json. Every kernel runs in its own process (see lib/child.ts).
// `npm run bench -- spawn ask-same-thread` runs only the named kernels (bench/kernel/<name>.ts).
import './lib/env.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runKernel } from './lib/child.ts';
import { formatTable } from './lib/table.ts';
import { tableCells, type Row } from './lib/rows.ts';

const KERNELS = ['tell-same-thread', 'tell-cross-thread', 'ask-same-thread', 'ask-cross-thread', 'spawn'];
const KERNEL_TIMEOUT_MS = 120_000;

interface KernelReport {
  name: string;
  ms: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  rows: Row[];
  detail?: unknown;
  error?: string;
}

const only = process.argv.slice(2);
const selected = only.length > 0 ? KERNELS.filter((k) => only.includes(k)) : KERNELS;
const started = performance.now();
const reports: KernelReport[] = [];

console.log(`Troupe kernel bench: node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load ${fmtLoad(loadavg())}`);
for (const name of selected) {
  const t0 = performance.now();
  const loadavgBefore = loadavg();
  process.stdout.write(`- ${name} ... `);
  try {
    const result = (await runKernel(`bench/kernel/${name}.ts`, KERNEL_TIMEOUT_MS)) as { rows: Row[]; detail?: unknown };
    reports.push({ name, ms: performance.now() - t0, loadavgBefore, loadavgAfter: loadavg(), rows: result.rows, detail: result.detail });
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    reports.push({ name, ms: performance.now() - t0, loadavgBefore, loadavgAfter: loadavg(), rows: [], error: String((err as Error).message ?? err) });
    console.log(`FAILED: ${(err as Error).message}`);
  }
}

const rows = reports.flatMap((r) => r.rows);
console.log();
console.log(formatTable(['figure', 'troupe', 'baseline', 'ratio', 'target', 'met?'], [
  ...rows.map(tableCells),
  ...reports.filter((r) => r.error).map((r) => [r.name, 'FAILED', '-', '-', '-', 'NO']),
]));
console.log('\nMedians of the measured runs (warmup runs dropped); ratio = troupe / baseline; baselines ran interleaved in the same process.');
const met = rows.filter((r) => r.met === true).length;
const judged = rows.filter((r) => r.met !== undefined).length;
console.log(`${met}/${judged} targets met; total ${((performance.now() - started) / 1000).toFixed(1)} s; load ${fmtLoad(loadavg())} (on a busy host, re-run before trusting a miss).`);

const outDir = new URL('./results/', import.meta.url);
mkdirSync(outDir, { recursive: true });
const file = new URL('kernel.json', outDir);
writeFileSync(file, JSON.stringify({
  generatedAt: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  totalMs: performance.now() - started,
  rows,
  kernels: reports,
}, null, 2));
console.log(`wrote ${file.pathname}`);
if (reports.some((r) => r.error)) process.exitCode = 1;

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}
