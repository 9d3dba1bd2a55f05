// Profiling aid (not in the bench's groups): the journal-graph throughput round of bench/tasks/throughput.ts, only
// the graph, ROUNDS times, for `node --cpu-prof --import tsx bench/tasks/profile-journal.ts [journal|snapshot|memory]`.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { TaskManager } from '../../tasks/index.ts';
import type { TaskSpec } from '../../tasks/types.ts';
import { noopWorker } from './actors.ts';
import { withDataDir } from '../lib/datadir.ts';

const N = 2_000;
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const mode = process.argv[2] ?? 'journal';
const specs: TaskSpec[] = Array.from({ length: N }, (_, i) => ({ id: `t${i}`, type: 'work', capability: 'noop', payload: i }));
await withDataDir(async (dataDir) => {
  const rt = await Runtime.start({ workers: 2, dataDir, stallMs: 0 });
  try {
    for (let i = 0; i < 4; i++) await rt.spawn(noopWorker, { id: `noop${i}`, pin: 1 + (i % 2) });
    const tasks = await TaskManager.start(rt, { durable: mode !== 'memory', pin: 0 });
    const rates: number[] = [];
    const submits: number[] = [];
    const phases: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      const g = await tasks.submit({ id: `g${round}`, tasks: specs, concurrency: 64, events: false, retry: false, durability: mode === 'snapshot' ? 'snapshot' : 'journal' });
      const t1 = performance.now();
      await g.done();
      const t2 = performance.now();
      rates.push(Math.round((N * 1000) / (t2 - t0)));
      if (round >= ROUNDS / 2) submits.push(t1 - t0);
      if (round === ROUNDS - 1) console.log(`last round: submit ${(t1 - t0).toFixed(1)} ms, run ${(t2 - t1).toFixed(1)} ms`);
      const tt = (globalThis as any).__tt as Array<[string, number]> | undefined;
      if (tt && round >= ROUNDS / 2) {
        const at = (l: string) => (tt.find(([x]) => x === l)?.[1] ?? NaN) - t0;
        (phases.submit ??= []).push(t1 - t0);
        (phases.toFirstDispatch ??= []).push(at('first dispatch'));
        (phases.run ??= []).push(at('last outcome applied') - at('first dispatch'));
        (phases.tail ??= []).push(t2 - t0 - at('last outcome applied'));
      }
      if (tt && round >= ROUNDS - 3 && process.env.TASKS_TRACE === '2') {
        const settles = tt.filter(([l]) => l.startsWith('settleMany'));
        console.log(tt.filter(([l]) => !l.startsWith('settleMany')).map(([l, t]) => `${l} +${(t - t0).toFixed(1)}`).join(', '), `| settleMany x${settles.length}, last +${((settles.at(-1)?.[1] ?? t0) - t0).toFixed(1)}`, `| done +${(t2 - t0).toFixed(1)}`);
      }
      const hist = (xs: number[] | undefined) => { const b: number[] = []; for (const x of xs ?? []) { const k = Math.floor((x - t0) / 5); b[k] = (b[k] ?? 0) + 1; } return Array.from(b, (v) => v ?? 0).join(' '); };
      if (tt && round >= ROUNDS - 2 && process.env.TASKS_TRACE === '2') console.log('dispatches per 5 ms:', hist((globalThis as any).__td), '\noutcomes per 5 ms:  ', hist((globalThis as any).__to));
      (globalThis as any).__td = []; (globalThis as any).__to = [];
      const tc = (globalThis as any).__tc as Array<[string, number, number, number?]> | undefined;
      if (tc && round === ROUNDS - 1) {
        console.log('commits (start +ms: txn callback after, committed after, flushed after, writes):');
        const byStart = new Map<number, Record<string, number>>();
        for (const [k, s0, t, n] of tc) { const r = byStart.get(s0) ?? {}; r[k] = t - s0; if (n !== undefined) r.n = n; byStart.set(s0, r); }
        console.log([...byStart].map(([s0, r]) => `+${(s0 - t0).toFixed(1)}: ${r.txn?.toFixed(1)}/${r.committed?.toFixed(1)}/${r.flushed?.toFixed(1)} (${r.n})`).join('\n'));
      }
      if (tc) tc.length = 0;
      if (tt) tt.length = 0;
    }
    const tail = rates.slice(Math.floor(rates.length / 2)).sort((a, b) => a - b);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    if (Object.keys(phases).length > 0) console.log(mode, 'median phases (ms):', Object.entries(phases).map(([k, v]) => `${k} ${med(v).toFixed(1)}`).join(', '));
    console.log(mode, 'tasks/s per round', rates.join(' '), '| median of the second half', tail[Math.floor(tail.length / 2)], 'submit ms', [...submits].sort((a, b) => a - b)[Math.floor(submits.length / 2)].toFixed(2));
  } finally {
    await rt.shutdown();
  }
});
