// Router figures R6-R7: one routing decision among 10,000 live actors of one capability against 10 (routed tells
// on the calling thread, p2c and consistent hashing; the delivery is the same, so the ratio is the choice's cost),
// and discovery: listing the actors of one capability among 1,000 registered agents.
import '../lib/env.ts';
import '../../router/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { defineActor } from '../../actors/define.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, makeRow } from '../lib/rows.ts';

export const member = defineActor({
  kind: 'bench-member',
  init: () => ({ n: 0 }),
  handlers: {
    add: (state) => {
      state.n++;
    },
  },
});

const N = 100_000;
const rt = await Runtime.start({ workers: 0 });
for (let i = 0; i < 10; i++) await rt.spawn(member, { capabilities: ['small'] });
for (let i = 0; i < 10_000; i++) await rt.spawn(member, { capabilities: ['large'] });

async function tells(capability: string, strategy: string): Promise<number> {
  const route = Object.freeze({ capability, strategy, key: strategy === 'consistent-hash' ? 'k' : undefined });
  const keyed = strategy === 'consistent-hash' ? Array.from({ length: 64 }, (_, i) => Object.freeze({ capability, strategy, key: `conversation-${i}` })) : [];
  const t0 = performance.now();
  if (keyed.length > 0) for (let i = 0; i < N; i++) rt.tell(keyed[i & 63], 'add');
  else for (let i = 0; i < N; i++) rt.tell(route, 'add');
  await new Promise((r) => setImmediate(r));
  return N / ((performance.now() - t0) / 1000);
}

const rows = [];
for (const strategy of ['p2c', 'consistent-hash']) {
  const runs = await interleave({ warmup: 2, runs: 5 }, { large: () => tells('large', strategy), small: () => tells('small', strategy) });
  rows.push(makePairedRow({ figure: `R6. routed tells among 10,000 actors vs 10 (${strategy})`, unit: 'msg/s', baselineName: 'among 10', target: { on: 'ratio', op: '>=', value: 0.5 }, runs: { troupe: runs.large, baseline: runs.small } }));
}
await rt.shutdown();

// Discovery: 1,000 agents, each offering 'agent' and one of ten skills.
const rt2 = await Runtime.start({ workers: 0 });
for (let i = 0; i < 1000; i++) await rt2.spawn(member, { capabilities: ['agent', `skill-${i % 10}`] });
function listing(capability: string): number {
  const t0 = performance.now();
  const K = 200;
  for (let i = 0; i < K; i++) rt2.capabilities(capability);
  return ((performance.now() - t0) * 1000) / K;
}
const one = await interleave({ warmup: 1, runs: 5 }, { skill: async () => listing('skill-3'), all: async () => listing('agent') });
await rt2.shutdown();
rows.push(makeRow({ figure: 'R7. discovery: list one capability (100 of 1,000 agents)', unit: 'us', baselineName: 'list all 1,000', target: { on: 'troupe', op: '<', value: 100 }, runs: { troupe: one.skill, baseline: one.all } }));
emit({ rows });
