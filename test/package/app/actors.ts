// TypeScript actor definitions: the app runs under tsx, its worker threads load this module too.
import { defineActor, type ActorRef } from 'troupe';

export const counter = defineActor({
  kind: 'counter',
  persistence: {},
  init: (args: { start?: number }) => ({ count: args.start ?? 0 }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

export const doubler = defineActor({
  kind: 'doubler',
  init: () => ({}),
  handlers: {
    double: async (_state, target: ActorRef<typeof counter>, ctx) => 2 * (await ctx.ask(target, 'get')),
  },
});
