// Router figures R6-R7: one routing decision among 10,000 live actors of one capability against 10 (routed tells
// on the calling thread, p2c and consistent hashing; the delivery is the same, so the ratio is the choice's cost),
// and discovery: listing the actors of one capability among 1,000 registered agents.
import '../lib/env.ts';
import '../../router/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { defineActor } from '../../actors/define.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { median } from '../lib/stats.ts';
import type { ActorRef } from '../../actors/define.ts';

export const member = defineActor({
  kind: 'bench-member',
  init: () => ({ n: 0 }),
  handlers: {
    add: (state) => {
      state.n++;
    },
  },
});

const rt = await Runtime.start({ workers: 0 });
const sets: Record<string, ActorRef[]> = { small: [], large: [] };
for (let i = 0; i < 10; i++) sets.small.push(await rt.spawn(member, { capabilities: ['small'] }));
for (let i = 0; i < 10_000; i++) sets.large.push(await rt.spawn(member, { capabilities: ['large'] }));
// Enough keys to spread keyed routes over the whole set, as random picks do: with 64 keys a hash ring sent every
// message to at most 64 of the 10,000 actors, which is cheaper to deliver than the baseline's random spread, and
// the difference came out negative (printed as 0 ns).
const KEYS = 16_384;
const keys = Array.from({ length: KEYS }, (_, i) => `conversation-${i}`);

/**
 * What routing adds per message (ns): routed tells against direct tells to actors picked at random from the same
 * set (the same delivery pattern: spreading over 10,000 actors costs the scheduler more than over 10, whoever
 * chooses), in paired rounds.
 */
async function overheadNs(set: 'small' | 'large', strategy: string): Promise<number> {
  // Rendezvous hashing is O(n): fewer messages, or 10,000 candidates take minutes.
  const N = strategy === 'consistent-hash' ? 2_000 : 100_000;
  const refs = sets[set];
  const routes = keys.map((key) => Object.freeze({ capability: set, strategy, key }));
  const r = await interleave({ warmup: 1, runs: 3 }, {
    async routed() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(routes[i & (KEYS - 1)], 'add');
      await new Promise((res) => setImmediate(res));
      return (performance.now() - t0) / N;
    },
    async direct() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(refs[Math.floor(Math.random() * refs.length)], 'add');
      await new Promise((res) => setImmediate(res));
      return (performance.now() - t0) / N;
    },
  });
  return Math.max(0, median(r.routed.map((t, i) => t - r.direct[i]))) * 1e6;
}

const rows = [];
for (const strategy of ['p2c', 'hash-ring', 'consistent-hash']) {
  const large: number[] = [];
  const small: number[] = [];
  for (let i = 0; i < 2; i++) {
    large.push(await overheadNs('large', strategy));
    small.push(await overheadNs('small', strategy));
  }
  const target = strategy === 'consistent-hash' ? undefined : { on: 'ratio' as const, op: '<=' as const, value: 2 };
  rows.push(makeRow({ figure: `R6. routing cost per message among 10,000 actors vs 10 (${strategy})`, unit: 'ns', baselineName: 'among 10', target, runs: { troupe: large, baseline: small } }));
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
