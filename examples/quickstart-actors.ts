// examples/quickstart-actors.ts: actor definitions live in a module of their own (worker threads import it).
import { defineActor, type ActorRef } from '../runtime/index.ts';

// An actor kind: state from init, one handler per message type (state is an immer draft inside handlers).
export const counter = defineActor({
  kind: 'counter',
  capabilities: ['counting'],
  init: (args: { start?: number }) => ({ count: args.start ?? 0 }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count, // the return value answers an ask
  },
});

// Actors talk to each other through the context; refs are plain data and can be sent in messages.
export const doubler = defineActor({
  kind: 'doubler',
  init: () => ({}),
  handlers: {
    double: async (_state, target: ActorRef<typeof counter>, ctx) => {
      const n = await ctx.ask(target, 'get');
      ctx.tell(target, 'add', n);
      return n * 2;
    },
  },
});

