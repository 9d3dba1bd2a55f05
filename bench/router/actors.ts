import { defineActor } from '../../actors/define.ts';

/** The kernel figures' counting actor, offering a capability so it can be reached by route. */
export const routedTally = defineActor({
  kind: 'bench-routed-tally',
  capabilities: ['count'],
  init: () => ({ count: 0 }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

/**
 * Load-balancing figures: answers after `ms` (a timer: handling time that does not block the thread, as a model
 * call or a tool would), or throws on every other message when `flaky`.
 */
/** Messages each service has received, outside its state: a handler that throws rolls its state back. */
const received = new Map<string, number>();

export const service = defineActor({
  kind: 'bench-service',
  capabilities: ['serve'],
  init: (args: { ms: number; flaky?: boolean }) => ({ ms: args.ms, flaky: args.flaky ?? false }),
  handlers: {
    call: async (state, _p: number, ctx) => {
      const n = (received.get(ctx.self.id) ?? 0) + 1;
      received.set(ctx.self.id, n);
      if (state.flaky && n % 2 === 0) throw new Error('flaky service fails');
      if (state.ms > 0) await new Promise((r) => setTimeout(r, state.ms));
      return ctx.self.id;
    },
  },
});
