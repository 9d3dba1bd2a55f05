// Figure 12: goodput of 50 agents on 2 worker threads against the local model server's own limits (600 requests/min
// and 200k input tokens/min, continuously refilled buckets; each request ~400 input tokens, so the token limit
// binds). Each agent runs one-turn tasks back to back. After a warmup that drains the server's buckets, a window
// of WINDOW_S seconds is counted at the server: answered requests and their input tokens against what the limits
// allow in that window (goodput), and the share of requests answered 429.
// Troupe: the agents share one quota governor (pacing before sending, usage corrections, header resync) on clients
// with maxRetries 0. Baseline (same process, same server settings, fresh server and runtime): no governor, the
// SDK's own retries (maxRetries 2) and the agent's recovery behind them.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { startModelServer } from '../../agents/model-server/index.ts';
import { startQuotaGovernor } from '../../agents/index.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { worker } from './team.ts';

const AGENTS = 50;
const LIMITS = { requestsPerMinute: 600, inputTokensPerMinute: 200_000, outputTokensPerMinute: 1_000_000 };
const WARMUP_S = Number(process.env.TROUPE_BENCH_WARMUP_S ?? 8);
const WINDOW_S = Number(process.env.TROUPE_BENCH_WINDOW_S ?? 15);
const FILLER = 'Summarise the state of the actor model in one line. '.repeat(30); // ~1600 chars, ~400 tokens

interface Outcome {
  goodput: number; // share of the binding limit used in the window (1 = all of it)
  share429: number; // share of the requests in the window answered 429
  ok: number;
  total: number;
  errors: number;
}

async function scenario(governed: boolean): Promise<Outcome> {
  const server = await startModelServer({ limits: LIMITS, fallback: { text: 'ok' } });
  return withDataDir(async (dataDir) => {
    const rt = await Runtime.start({ workers: 2, dataDir, stallMs: 0, spareWorker: false });
    let stop = false;
    let errors = 0;
    try {
      if (governed) await startQuotaGovernor(rt, { limits: { default: LIMITS } });
      const endpoint = { mode: 'local' as const, baseURL: server.baseURL, sdkRetries: governed ? 0 : 2 };
      const agents = await Promise.all(Array.from({ length: AGENTS }, (_, i) => rt.spawn(worker, { id: `w${i}`, args: { endpoint, governor: governed ? undefined : false } })));
      const loops = agents.map(async (a, i) => {
        for (let n = 0; !stop; n++) {
          await rt.ask(a, 'run', { task: `${FILLER} (agent ${i}, task ${n})` }, { timeoutMs: 300_000 }).catch(() => errors++);
        }
      });
      await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
      const t1 = Date.now();
      stop = true;
      const inWindow = server.log.messages.filter((e) => e.at >= t0 && e.at < t1);
      const ok = inWindow.filter((e) => e.outcome === 'ok');
      const limited = inWindow.filter((e) => e.status === 429).length;
      const seconds = (t1 - t0) / 1000;
      const reqShare = ok.length / ((LIMITS.requestsPerMinute / 60) * seconds);
      const tokShare = ok.reduce((n, e) => n + e.inputTokens, 0) / ((LIMITS.inputTokensPerMinute / 60) * seconds);
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 30_000))]);
      return { goodput: Math.max(reqShare, tokShare), share429: inWindow.length ? limited / inWindow.length : 0, ok: ok.length, total: inWindow.length, errors };
    } finally {
      stop = true;
      await rt.shutdown();
      await server.close();
    }
  });
}

const governed = await scenario(true);
const unmanaged = await scenario(false);
emit({
  rows: [
    makeRow({ figure: '12a. goodput: 50 agents on 2 workers, share of the binding limit used (governor vs SDK retries, no governor)', unit: '%', baselineName: 'SDK retries, no governor', target: { on: 'troupe', op: '>=', value: 0.95 }, runs: { troupe: [governed.goodput], baseline: [unmanaged.goodput] } }),
    makeRow({ figure: '12b. requests answered 429 in the same window', unit: '%', baselineName: 'SDK retries, no governor', target: { on: 'troupe', op: '<=', value: 0.01 }, runs: { troupe: [governed.share429], baseline: [unmanaged.share429] } }),
  ],
  detail: { agents: AGENTS, limits: LIMITS, warmupS: WARMUP_S, windowS: WINDOW_S, governed, unmanaged },
});
