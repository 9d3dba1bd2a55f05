// Not a bench of the suite: drives many turns of the durable: false looper (or another, TROUPE_PROF_AGENT=durable|read, or plain: the SDK loop alone)
// with TROUPE_PROF_OUT=file.cpuprofile, a CPU profile of the measured runs. Prints wall time per turn.
import '../lib/env.ts';
import Anthropic from '@anthropic-ai/sdk';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Runtime } from '../../runtime/index.ts';
import { rules, startModelServer } from '../../agents/model-server/index.ts';
import { startQuotaGovernor } from '../../agents/index.ts';
import { withDataDir } from '../lib/datadir.ts';
import { echo, lightLooper, looper, readLooper } from './team.ts';
import { answerInProcess } from './stub-model.ts';
import { plainLoop } from './plain-loop.ts';

const TURNS = 40;
const RUNS = Number(process.env.TROUPE_PROF_RUNS ?? 50);
const which = process.env.TROUPE_PROF_AGENT ?? 'light';
if (process.env.TROUPE_PROF_STUB === '1') answerInProcess(TURNS); // no HTTP: what is left of a turn is Troupe's own work
const server = await startModelServer({ rules: [rules.when((v) => v.toolResults().length < TURNS - 1, (v) => ({ toolUse: { name: 'echo', input: { n: v.toolResults().length } } })), rules.answer('done')] });
await withDataDir(async (dataDir) => {
  const rt = await Runtime.start({ workers: 0, dataDir, stallMs: 0, spareWorker: false });
  try {
    await startQuotaGovernor(rt, { limits: { default: { requestsPerMinute: 1e6, inputTokensPerMinute: 1e9, outputTokensPerMinute: 1e9 } } });
    await rt.spawn(echo, { id: 'echo' });
    const def = which === 'durable' ? looper : which === 'read' ? readLooper : lightLooper;
    const agent = await rt.spawn(def as typeof lightLooper, { id: 'a', args: { endpoint: { mode: 'local', baseURL: server.baseURL } } });
    const client = new Anthropic({ apiKey: 'local', baseURL: server.baseURL, maxRetries: 0 });
    const one = (task: string, runId: string) => (which === 'plain' ? plainLoop(client, task, TURNS) : rt.ask(agent, 'run', { task, runId }, { timeoutMs: 120_000 }));
    await one('warmup', 'w');
    const out = process.env.TROUPE_PROF_OUT; // a .cpuprofile of the measured runs only (startup left out)
    const session = out ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let r = 0; r < RUNS; r++) await one(`round ${r}`, `r${r}`);
    const ms = performance.now() - t0;
    if (session) writeFileSync(out!, JSON.stringify((await session.post('Profiler.stop')).profile));
    console.log(`${which}: ${((ms * 1000) / (RUNS * TURNS)).toFixed(0)} us per turn (${RUNS} runs of ${TURNS} turns); cpu ${((process.cpuUsage(c0).user + process.cpuUsage(c0).system) / (RUNS * TURNS)).toFixed(0)} us per turn`);
  } finally {
    await rt.shutdown();
    await server.close();
  }
});

