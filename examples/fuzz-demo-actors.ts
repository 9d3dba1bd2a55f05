// examples/fuzz-demo-actors.ts: the demo's researcher, made simulation-friendly (definitions only).
import { defineActor } from '../runtime/index.ts';

/**
 * The demo's researcher (examples/agents.ts) "thinks" with a real setTimeout, which a simulation refuses: its time
 * would pass outside the virtual clock. This one does the same work without it; in simulation, thinking time comes
 * from the fault plan (`stall` faults), so slow thinking is one more thing the seed explores.
 */
export const researcher = defineActor({
  kind: 'researcher',
  capabilities: ['research'],
  init: (args: { name: string }) => ({ name: args.name, done: 0 }),
  handlers: {
    research: async (state, topic: string, ctx) => {
      state.done++;
      const finding = `${state.name}: "${topic}" has ${topic.split(/\s+/).length} words`;
      ctx.publish('progress', 'progress', { from: state.name, finding });
      return finding;
    },
    fail: (_state, why: string) => {
      throw new Error(why);
    },
  },
});
