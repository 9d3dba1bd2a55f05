// Figure 13: the runtime's overhead per model turn, the HTTP round trip excluded. One agent on the calling thread
// (workers: 0, a real LMDB directory, the quota governor) runs TURNS tool-calling turns against the local server
// (no latency): each turn is a permit, a Messages API call, a journal commit of the response, the tool call to an
// actor, a commit of its result and one of the next user message. Baseline, interleaved in the same process against
// the same server: the same TURNS requests (the same growing conversation) made straight with the SDK in a plain
// loop, the tool called as a function. Overhead per turn = (agent run - plain loop) / turns. Also an agent with
// durable: false (no journal): the same loop without the commits. Beside the wall-clock figures, the same
// differences in CPU time (process.cpuUsage: every thread of the process, LMDB's writer included), which a loaded
// host disturbs less than elapsed time. Then (13g-13i) the same runs with the model answered in process (stub-model.ts):
// no HTTP and no SDK request on either side, so a run's time per turn is Troupe's own work (plus the stub's, which the
// plain loop's run measures), taken directly rather than as a small difference of two long, noisy runs. And (13j-13l),
// inside the HTTP runs themselves, the time from each response to the next request (the SDK's messages.create timed),
// against the plain loop's: the loop's own work between two round trips, HTTP and SDK excluded, per turn.
import '../lib/env.ts';
import Anthropic from '@anthropic-ai/sdk';
import { Runtime } from '../../runtime/index.ts';
import { rules, startModelServer } from '../../agents/model-server/index.ts';
import { startQuotaGovernor } from '../../agents/index.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit } from '../lib/measure.ts';
import { makePairedRow, makeRow } from '../lib/rows.ts';
import { echo, lightLooper, looper, readLooper } from './team.ts';
import { answerInProcess } from './stub-model.ts';
import { plainLoop } from './plain-loop.ts';

const TURNS = 40;
// A round is four runs of 40 turns (about half a second): 15 of them, for medians a loaded host moves less.
const ROUNDS = Number(process.env.TROUPE_BENCH_ROUNDS ?? 15);
const server = await startModelServer({ rules: [rules.when((v) => v.toolResults().length < TURNS - 1, (v) => ({ toolUse: { name: 'echo', input: { n: v.toolResults().length } } })), rules.answer('done')] });

/**
 * Per run, the median time from a model response (the SDK's promise settled) to the next request (messages.create
 * called): what the loop does between two HTTP round trips, measured inside the same runs, HTTP and SDK excluded.
 */
const gaps = { agent: [] as number[], light: [] as number[], read: [] as number[], plain: [] as number[] };
let gapsOfRun: number[] | undefined;
let responded = -1;
{
  const proto = (Anthropic as unknown as { Messages: { prototype: { create: (...a: unknown[]) => PromiseLike<unknown> } } }).Messages.prototype;
  const create = proto.create;
  proto.create = function timed(this: unknown, ...args: unknown[]) {
    if (gapsOfRun !== undefined && responded >= 0) gapsOfRun.push(performance.now() - responded);
    const reply = create.apply(this, args);
    reply.then(() => void (responded = performance.now()), () => undefined);
    return reply;
  } as typeof create;
}
const medianGap = async <T>(into: number[] | undefined, f: () => Promise<T>): Promise<T> => {
  gapsOfRun = into === undefined ? undefined : [];
  responded = -1;
  try {
    return await f();
  } finally {
    if (into !== undefined && gapsOfRun!.length > 0) into.push(med(gapsOfRun!) * 1000);
    gapsOfRun = undefined;
  }
};
function med(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}
const STUB_ROUNDS = Number(process.env.TROUPE_BENCH_STUB_ROUNDS ?? 15);
/** Run times (ms) with the model answered in process, per agent and for the plain loop. */
const stub = { light: [] as number[], agent: [] as number[], read: [] as number[], plain: [] as number[] };
const agentMs: number[] = [];
/** LMDB group commits and snapshot writes per turn of the durable agent's runs (thread 0's counters). */
const commitsPerTurn: number[] = [];
const snapshotsPerTurn: number[] = [];
const lightMs: number[] = [];
const readMs: number[] = [];
const plainMs: number[] = [];
/** CPU time (us) per turn of each run, in the same order as the wall-clock arrays. */
const cpu = { agent: [] as number[], light: [] as number[], read: [] as number[], plain: [] as number[] };
const cpuOf = async <T>(into: number[] | undefined, f: () => Promise<T>): Promise<T> => {
  const c0 = process.cpuUsage();
  const out = await f();
  const c = process.cpuUsage(c0);
  into?.push((c.user + c.system) / TURNS);
  return out;
};
await withDataDir(async (dataDir) => {
  const rt = await Runtime.start({ workers: 0, dataDir, stallMs: 0, spareWorker: false });
  try {
    await startQuotaGovernor(rt, { limits: { default: { requestsPerMinute: 1e6, inputTokensPerMinute: 1e9, outputTokensPerMinute: 1e9 } } });
    await rt.spawn(echo, { id: 'echo' });
    const agent = await rt.spawn(looper, { id: 'loop', args: { endpoint: { mode: 'local', baseURL: server.baseURL } } });
    const light = await rt.spawn(lightLooper, { id: 'light', args: { endpoint: { mode: 'local', baseURL: server.baseURL } } });
    const read = await rt.spawn(readLooper, { id: 'read', args: { endpoint: { mode: 'local', baseURL: server.baseURL } } });
    const client = new Anthropic({ apiKey: 'local', baseURL: server.baseURL, maxRetries: 0 });
    const io = async () => {
      const t = (await rt.metricsSnapshot()).threads[0]!;
      return { commits: t.journalCommit.count, snapshots: t.snapshot.count };
    };
    const runAgent = async (r: number, which = agent, counted = true) => {
      const before = which === agent && counted ? await io() : undefined;
      const t0 = performance.now();
      const kind = which === agent ? 'agent' : which === (read as never) ? 'read' : 'light';
      const measured = r >= 0 && counted;
      const res = await medianGap(measured ? gaps[kind] : undefined, () => cpuOf(measured ? cpu[kind] : undefined, () => rt.ask(which, 'run', { task: `round ${r}`, runId: `r${r}` }, { timeoutMs: 120_000 })));
      const ms = performance.now() - t0;
      if (res.turns !== TURNS) throw new Error(`expected ${TURNS} turns, got ${res.turns}`);
      if (before && r >= 0) {
        await new Promise((res) => setTimeout(res, 20)); // a lazy snapshot of the last save lands within 5 ms
        const after = await io();
        commitsPerTurn.push((after.commits - before.commits) / TURNS);
        snapshotsPerTurn.push((after.snapshots - before.snapshots) / TURNS);
      }
      return ms;
    };
    await runAgent(-1); // warmup
    await runAgent(-1, light as never);
    await runAgent(-1, read as never);
    await plainLoop(client, 'warmup', TURNS);
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        agentMs.push(await runAgent(r));
        lightMs.push(await runAgent(r, light as never));
        readMs.push(await runAgent(r, read as never));
        plainMs.push(await medianGap(gaps.plain, () => cpuOf(cpu.plain, () => plainLoop(client, `round ${r}`, TURNS))));
      } else {
        plainMs.push(await medianGap(gaps.plain, () => cpuOf(cpu.plain, () => plainLoop(client, `round ${r}`, TURNS))));
        readMs.push(await runAgent(r, read as never));
        lightMs.push(await runAgent(r, light as never));
        agentMs.push(await runAgent(r));
      }
    }
    // The same runs with the model answered in process (stub-model.ts): no HTTP, no SDK request; each run's time per
    // turn is Troupe's own work plus the stub's (the plain loop's figure), measured directly.
    answerInProcess(TURNS);
    for (const which of [light, agent, read]) await runAgent(ROUNDS + STUB_ROUNDS, which as never, false); // warmup
    await plainLoop(client, 'warmup', TURNS);
    for (let r = 0; r < STUB_ROUNDS; r++) {
      const order = r % 2 === 0 ? (['light', 'agent', 'read', 'plain'] as const) : (['plain', 'read', 'agent', 'light'] as const);
      for (const which of order) {
        if (which === 'plain') stub.plain.push(await plainLoop(client, `stub ${r}`, TURNS));
        else stub[which].push(await runAgent(ROUNDS + r, ({ light, agent, read } as const)[which] as never, false));
      }
    }
  } finally {
    await rt.shutdown();
    await server.close();
  }
});
const perTurn = (ms: number[]) => ms.map((m) => (m * 1000) / TURNS);
const overhead = agentMs.map((m, i) => ((m - plainMs[i]) * 1000) / TURNS);
const lightOverhead = lightMs.map((m, i) => ((m - plainMs[i]) * 1000) / TURNS);
const readOverhead = readMs.map((m, i) => ((m - plainMs[i]) * 1000) / TURNS);
const stubOverhead = (ms: number[]) => ms.map((m, i) => ((m - stub.plain[i]!) * 1000) / TURNS);
emit({
  rows: [
    makePairedRow({ figure: `13a. one model turn with a tool call (${TURNS}-turn run, same thread, LMDB, governor)`, unit: 'us', baselineName: 'plain SDK loop', runs: { troupe: perTurn(agentMs), baseline: perTurn(plainMs) } }),
    makeRow({ figure: `13b. runtime overhead per turn, durable agent (${med(commitsPerTurn).toFixed(2)} LMDB commits, ${med(snapshotsPerTurn).toFixed(2)} snapshot writes per turn)`, unit: 'us', baselineName: 'plain SDK turn', target: { on: 'troupe', op: '<', value: 200 }, runs: { troupe: overhead, baseline: perTurn(plainMs) } }),
    makeRow({ figure: '13c. runtime overhead per turn, agent with durable: false', unit: 'us', baselineName: 'plain SDK turn', target: { on: 'troupe', op: '<', value: 200 }, runs: { troupe: lightOverhead, baseline: perTurn(plainMs) } }),
    makeRow({ figure: '13f. runtime overhead per turn, durable agent whose tool is readOnly (runs while the response commits)', unit: 'us', baselineName: 'plain SDK turn', target: { on: 'troupe', op: '<', value: 200 }, runs: { troupe: readOverhead, baseline: perTurn(plainMs) } }),
    makeRow({ figure: '13j. from a model response to the next request (median per run, in the HTTP runs above; HTTP and SDK excluded), durable: false', unit: 'us', baselineName: 'plain SDK loop, same gap', target: { on: 'troupe', op: '<', value: 200 }, runs: { troupe: gaps.light.map((g, i) => g - gaps.plain[i]!), baseline: gaps.plain } }),
    makeRow({ figure: '13k. the same, durable agent', unit: 'us', baselineName: 'plain SDK loop, same gap', runs: { troupe: gaps.agent.map((g, i) => g - gaps.plain[i]!), baseline: gaps.plain } }),
    makeRow({ figure: '13l. the same, durable agent whose tool is readOnly', unit: 'us', baselineName: 'plain SDK loop, same gap', runs: { troupe: gaps.read.map((g, i) => g - gaps.plain[i]!), baseline: gaps.plain } }),
    makeRow({ figure: `13g. Troupe's own work per turn, durable: false, the model answered in process (no HTTP, no SDK request; ${STUB_ROUNDS} rounds)`, unit: 'us', baselineName: 'plain loop, same stub', target: { on: 'troupe', op: '<', value: 200 }, runs: { troupe: stubOverhead(stub.light), baseline: perTurn(stub.plain) } }),
    makeRow({ figure: "13h. the same, durable agent (its commits waited for: fsync-bound)", unit: 'us', baselineName: 'plain loop, same stub', runs: { troupe: stubOverhead(stub.agent), baseline: perTurn(stub.plain) } }),
    makeRow({ figure: "13i. the same, durable agent whose tool is readOnly", unit: 'us', baselineName: 'plain loop, same stub', runs: { troupe: stubOverhead(stub.read), baseline: perTurn(stub.plain) } }),
    makeRow({ figure: '13d. CPU time over the plain SDK turn\'s, per turn, durable agent', unit: 'us', baselineName: 'plain SDK turn (CPU)', runs: { troupe: cpu.agent.map((c, i) => c - cpu.plain[i]!), baseline: cpu.plain } }),
    makeRow({ figure: '13e. CPU time over the plain SDK turn\'s, per turn, durable: false', unit: 'us', baselineName: 'plain SDK turn (CPU)', runs: { troupe: cpu.light.map((c, i) => c - cpu.plain[i]!), baseline: cpu.plain } }),
  ],
  detail: { turns: TURNS, rounds: ROUNDS, agentMs, lightMs, readMs, plainMs, commitsPerTurn, snapshotsPerTurn, cpu, gaps, stubRounds: STUB_ROUNDS, stub },
});
