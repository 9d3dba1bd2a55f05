import type { ActorRef, TerminationNotice } from '../../actors/define.ts';
import { defineActor } from '../../runtime/index.ts';

/** Watches and stops actors by ref (of any node) from inside a handler; remembers the notices it got. */
export const overseer = defineActor({
  kind: 'overseer',
  init: () => ({ notices: [] as TerminationNotice[] }),
  handlers: {
    watch: (_state, ref: ActorRef, ctx) => void ctx.watch(ref),
    unwatch: (_state, ref: ActorRef, ctx) => void ctx.unwatch(ref),
    stop: (_state, ref: ActorRef, ctx) => void ctx.stop(ref),
    notices: (state) => state.notices,
    spawnOn: async (_state, msg: { node: string; id: string }, ctx) => {
      const { notebook } = await import('./fixtures.ts');
      return ctx.spawn(notebook, { id: msg.id, node: msg.node });
    },
  },
  onTerminated: (state, notice) => {
    state.notices.push(notice);
  },
});
