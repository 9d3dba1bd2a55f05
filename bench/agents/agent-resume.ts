// Figure 14: an agent's resume with a 100-turn conversation. A runtime runs one 101-turn run (100 tool calls,
// then the answer) to completion; its journaled state, minus the final answer, is stored as the in-flight run of
// fresh agent ids, and the runtime shuts down. A new runtime on the same directory then, per round: spawns such an
// agent and asks for that run: it restores the journal from LMDB (100 turns, ~200 messages), sees the turn left,
// sends it and answers (one model request). Baseline, alternating first: spawn a fresh agent and run a one-turn
// task (empty journal, one model request). Reported: ms from spawn to the run's answer.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { rules, startModelServer } from '../../agents/model-server/index.ts';
import { agentJournal, journalId } from '../../agents/index.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';
import { echo, looper } from './team.ts';

const TOOL_TURNS = 100;
const ROUNDS = Number(process.env.TROUPE_BENCH_ROUNDS ?? 5);
const server = await startModelServer({
  rules: [rules.when((v) => v.task.startsWith('long') && v.toolResults().length < TOOL_TURNS, (v) => ({ toolUse: { name: 'echo', input: { n: v.toolResults().length } } })), rules.answer('done')],
});
const endpoint = { mode: 'local' as const, baseURL: server.baseURL };
const resumed: number[] = [];
const fresh: number[] = [];
let messages = 0;

await withDataDir(async (dataDir) => {
  const options = { workers: 0, dataDir, stallMs: 0, spareWorker: false };
  const a = await Runtime.start(options);
  try {
    await a.spawn(echo, { id: 'echo' });
    const agent = await a.spawn(looper, { id: 'seed', args: { endpoint, governor: false } });
    const res = await a.ask(agent, 'run', { task: 'long run', runId: 'long' }, { timeoutMs: 300_000 });
    if (res.turns !== TOOL_TURNS + 1) throw new Error(`seed run took ${res.turns} turns`);
    const journal = (await a.lookup(journalId('seed')))!;
    const run = structuredClone((await a.ask(journal as never, 'get' as never, 'long' as never)) as Record<string, unknown> & { messages: unknown[] });
    run.messages.pop(); // the final answer: the turn left to do
    Object.assign(run, { status: 'running', turns: TOOL_TURNS, finalText: undefined, stopReason: undefined });
    messages = run.messages.length;
    for (let r = 0; r < ROUNDS; r++) {
      const j = await a.spawn(agentJournal, { id: journalId(`resume${r}`) });
      await a.ask(j, 'save', run as never);
    }
  } finally {
    await a.shutdown();
  }
  const b = await Runtime.start(options);
  try {
    await b.spawn(echo, { id: 'echo' });
    const resume = async (r: number) => {
      const t0 = performance.now();
      const agent = await b.spawn(looper, { id: `resume${r}`, args: { endpoint, governor: false } });
      const res = await b.ask(agent, 'run', { task: 'long run', runId: 'long' }, { timeoutMs: 60_000 });
      if (res.turns !== TOOL_TURNS + 1 || res.text !== 'done') throw new Error(`resume ${r}: ${res.turns} turns, '${res.text}'`);
      return performance.now() - t0;
    };
    const start = async (r: number) => {
      const t0 = performance.now();
      const agent = await b.spawn(looper, { id: `fresh${r}`, args: { endpoint, governor: false } });
      const res = await b.ask(agent, 'run', { task: 'short run', runId: 'short' }, { timeoutMs: 60_000 });
      if (res.turns !== 1) throw new Error(`fresh ${r}: ${res.turns} turns`);
      return performance.now() - t0;
    };
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        resumed.push(await resume(r));
        fresh.push(await start(r));
      } else {
        fresh.push(await start(r));
        resumed.push(await resume(r));
      }
    }
  } finally {
    await b.shutdown();
    await server.close();
  }
});
emit({
  rows: [makePairedRow({ figure: `14. resume an agent's run with a ${TOOL_TURNS}-turn conversation (restore from LMDB, one more turn)`, unit: 'ms', baselineName: 'fresh agent, one-turn run', runs: { troupe: resumed, baseline: fresh } })],
  detail: { toolTurns: TOOL_TURNS, messages, rounds: ROUNDS, resumed, fresh },
});
