// The 10-actor system the testkit benches fuzz: 3 routers spread 100 messages over 7 counters under one supervisor,
// with asks mixed in; faults (crashes, delays, stalls) drawn from the run's seed.
import { defineActor, type ActorRef } from '../../runtime/index.ts';
import type { Fault } from '../../testkit/index.ts';
import { SeededRandom } from '../../testkit/index.ts';

export const tallyActor = defineActor({
  kind: 'bench-tally',
  init: () => ({ n: 0 }),
  handlers: {
    add: (state, by: number) => {
      state.n += by;
    },
    get: (state) => state.n,
  },
});

export const routerActor = defineActor({
  kind: 'bench-router',
  init: (args: { to: ActorRef[] }) => ({ to: args.to, i: 0 }),
  handlers: {
    route: (state, n: number, ctx) => {
      ctx.tell(state.to[state.i++ % state.to.length] as ActorRef<typeof tallyActor>, 'add', n);
    },
    probe: async (state, _: void, ctx) => ctx.ask(state.to[state.i % state.to.length] as ActorRef<typeof tallyActor>, 'get'),
  },
});

export const COUNTERS = Array.from({ length: 7 }, (_, i) => `t${i}`);
export const ROUTERS = ['r0', 'r1', 'r2'];

export function children() {
  const refs = COUNTERS.map((id) => ({ id, kind: 'bench-tally', node: 0 }));
  return [
    ...COUNTERS.map((id) => ({ id, actor: tallyActor })),
    ...ROUTERS.map((id) => ({ id, actor: routerActor, args: { to: refs } })),
  ];
}

/** A fault plan drawn from the seed: up to 3 crashes, delays or stalls. */
export function drawPlan(seed: number): Fault[] {
  const r = new SeededRandom(seed ^ 0x51ed);
  const all = [...COUNTERS, ...ROUTERS];
  const plan: Fault[] = [];
  for (let i = r.int(4); i > 0; i--) {
    const actor = all[r.int(all.length)];
    const k = r.int(3);
    if (k === 0) plan.push({ kind: 'crash', actor, onMessage: 1 + r.int(20) });
    else if (k === 1) plan.push({ kind: 'delay', to: actor, ms: 1 + r.int(50) });
    else plan.push({ kind: 'stall', actor, onMessage: 1 + r.int(20), ms: 1 + r.int(100) });
  }
  return plan;
}

export const SUPERVISOR = { id: 'sup', strategy: 'one-for-one' as const, intensity: { maxRestarts: 100, withinMs: 1000 }, backoff: { minMs: 1, maxMs: 50 } };
