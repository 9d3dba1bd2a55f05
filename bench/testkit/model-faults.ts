// Figure T5: one simulated agent run under model API faults: a durable agent with a tool, three model requests,
// the first answered 429 with a 60 s retry-after and one more fault drawn from the seed (529 in a stream, a timeout
// of the endpoint's 600 s, or a prompt too long). Reported: ms per run on the in-memory store (durable: 'memory')
// against the same run on real LMDB in a temporary directory (durable: true), both in this process; the virtual
// time each run covers (so the speed-up over real time) and whether 100 replays of a seed give one trace hash.
import '../lib/env.ts';
import { defineActor } from '../../actors/define.ts';
import { defineAgent, type ToolCall } from '../../agents/index.ts';
import { rules } from '../../agents/model-server/index.ts';
import { Simulation, type Fault } from '../../testkit/index.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const RUNS = Number(process.env.TROUPE_BENCH_MODEL_RUNS ?? 300);
const dictionary = defineActor({
  kind: 'bench.dictionary',
  init: () => ({}),
  handlers: { define: (_s, call: ToolCall<{ word: string }>) => `${call.input.word}: ${call.input.word.length} letters` },
});
const agent = defineAgent({
  kind: 'bench.researcher', model: 'claude-haiku-4-5', maxTurns: 6, keepRecent: 2,
  tools: [{ name: 'define', input_schema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] }, actor: 'dict' }],
});
const words = ['actor', 'mailbox'];
const script = [rules.when((v) => v.turn < 2, (v) => ({ toolUse: { name: 'define', input: { word: words[v.turn] } } })), rules.answer('done')];
const second: Fault[] = [
  { kind: 'model-error', onCall: 2, error: 'overloaded', inStream: true },
  { kind: 'model-error', onCall: 3, error: 'timeout' },
  { kind: 'model-error', onCall: 3, error: 'prompt-too-long' },
];

async function run(seed: number, durable: true | 'memory'): Promise<{ hash: string; virtualMs: number }> {
  const faults: Fault[] = [{ kind: 'model-error', onCall: 1, error: 'rate-limit', retryAfterS: 60 }, second[seed % second.length]];
  const sim = await Simulation.start({ seed, durable, faults, maxDeliveryDelayMs: 2 });
  const model = sim.model({ rules: script, latencyMs: 300, jitterMs: 200 });
  await sim.spawn(dictionary, { id: 'dict' });
  const ref = await sim.spawn(agent, { id: 'r1', args: { endpoint: model.endpoint, governor: false } });
  await sim.call(ref, 'run', { task: 'define two words' }, { timeoutMs: 3_600_000 }).catch(() => undefined);
  const out = { hash: sim.hash(), virtualMs: sim.now };
  await sim.stop();
  return out;
}

for (let i = 0; i < 20; i++) {
  await run(1_000_000 + i, 'memory');
  await run(1_000_000 + i, true);
}
const timed = async (durable: true | 'memory') => {
  let virtualMs = 0;
  const hashes: string[] = [];
  const t0 = performance.now();
  for (let seed = 0; seed < RUNS; seed++) {
    const r = await run(seed, durable);
    virtualMs += r.virtualMs;
    hashes.push(r.hash);
  }
  return { ms: performance.now() - t0, virtualMs, hashes };
};
const memory = await timed('memory');
const lmdb = await timed(true);
const replays: string[] = [];
for (let i = 0; i < 100; i++) replays.push((await run(7, 'memory')).hash);
const identical = replays.filter((h) => h === memory.hashes[7]).length;
emit({
  rows: [
    makeRow({ figure: `T5. testkit: one durable agent run under model API faults (429 retry-after 60 s + a 529/timeout/prompt too long), in-memory store; ${(RUNS / (memory.ms / 1000)).toFixed(0)} runs/s, ${(memory.virtualMs / memory.ms).toFixed(0)}x real time`, unit: 'ms', baselineName: 'the same run on real LMDB (durable: true)', runs: { troupe: [memory.ms / RUNS], baseline: [lmdb.ms / RUNS] } }),
  ],
  detail: { runs: RUNS, memoryMs: memory.ms, lmdbMs: lmdb.ms, virtualMsPerRun: memory.virtualMs / RUNS, speedupOverRealTime: memory.virtualMs / memory.ms, sameHashesMemoryVsLmdb: memory.hashes.filter((h, i) => h === lmdb.hashes[i]).length, replayedIdentical: `${identical}/100` },
});
