// Router figure: one routing decision among 10,000 candidates against one among 10, for the O(1) / O(log n)
// strategies (p2c; consistent hashing by ring) and the O(n) ones (rendezvous hashing, the default consistent-hash;
// least-loaded, for comparison). Only the strategy is timed: building the candidate array is the plumbing's job,
// done when the candidate set changes, not per decision. ratio = ns per decision at 10k / at 10 (paired rounds).
import '../lib/env.ts';
import { consistentHash, leastLoaded, p2c } from '../../router/strategies/index.ts';
import type { Candidate, RouteMessage, Strategy, StrategyState } from '../../router/types.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, type Row, type Target } from '../lib/rows.ts';

const SIZES = [10, 10_000] as const;
const RUN_MS = 60;
const KEYS = Array.from({ length: 4096 }, (_, i) => `conversation-${i.toString(36)}-${(i * 2654435761) >>> 0}`);

function pool(n: number, seed: number): Candidate[] {
  let a = seed;
  const rnd = () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296);
  return Array.from({ length: n }, (_, i) => ({
    id: `agent-${seed}-${i}-${Math.floor(rnd() * 1e9).toString(36)}`, kind: 'reviewer', node: i % 3, capabilities: ['code-review'],
    queued: Math.floor(rnd() * 8), inFlight: Math.floor(rnd() * 4), health: 'healthy' as const, preferred: 0,
    latencyMs: 5 + rnd() * 50, successRate: 1, weight: 1,
  }));
}

/** ns per decision: as many decisions as fit in RUN_MS, a fresh key each time (keys are what hashing works on). */
function timeDecisions(strategy: Strategy, candidates: readonly Candidate[]): number {
  const messages: RouteMessage[] = KEYS.map((key) => ({ type: 'review', key }));
  const state: StrategyState = { now: 0, random: Math.random, memory: {} };
  let sink = 0;
  let decisions = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    for (let i = 0; i < 256; i++) sink += strategy(candidates, messages[(decisions + i) & 4095], state)!.queued;
    decisions += 256;
    elapsed = performance.now() - t0;
  }
  if (sink < 0) console.log(sink);
  return (elapsed * 1e6) / decisions;
}

const contenders: Record<string, { make: () => Strategy; target?: Target }> = {
  p2c: { make: () => p2c(), target: { on: 'ratio', op: '<=', value: 2 } },
  'consistent-hash (ring)': { make: () => consistentHash({ method: 'ring' }), target: { on: 'ratio', op: '<=', value: 2 } },
  'consistent-hash (rendezvous, default)': { make: () => consistentHash(), target: { on: 'ratio', op: '<=', value: 2 } },
  'least-loaded (O(n) scan, for comparison)': { make: () => leastLoaded },
};

const pools = Object.fromEntries(SIZES.map((n) => [n, pool(n, n)])) as Record<number, Candidate[]>;
const rows: Row[] = [];
const detail: Record<string, unknown> = {};
for (const [name, { make, target }] of Object.entries(contenders)) {
  const strategy = make();
  // The first decision on a new array pays its one-off cost (a ring's build, preferBest's memo): time it apart.
  const setup: Record<number, number> = {};
  for (const n of SIZES) {
    const t0 = performance.now();
    strategy(pools[n], { type: 'review', key: 'warm' }, { now: 0, random: Math.random, memory: {} });
    setup[n] = performance.now() - t0;
  }
  const runs = await interleave({ warmup: 2, runs: 7 }, {
    n10: async () => timeDecisions(strategy, pools[10]),
    n10k: async () => timeDecisions(strategy, pools[10_000]),
  });
  rows.push(makePairedRow({
    figure: `router: one ${name} decision, 10k vs 10 candidates`, unit: 'ns', baselineName: '10 candidates',
    ...(target ? { target } : {}), runs: { troupe: runs.n10k, baseline: runs.n10 },
  }));
  detail[name] = { firstDecisionMs: setup };
}
emit({ rows, detail });
