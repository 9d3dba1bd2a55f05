import { defineActor, type ActorRef } from '../runtime/index.ts';

/** A stand-in agent: "researches" a topic by counting its words (the LLM-backed agent comes with a later issue). */
export const researcher = defineActor({
  kind: 'researcher',
  capabilities: ['research'],
  init: (args: { name: string }) => ({ name: args.name, done: 0 }),
  handlers: {
    research: async (state, topic: string, ctx) => {
      await new Promise((r) => setTimeout(r, 5 + (topic.length % 7))); // pretend to think
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

/** Collects progress reports published on the 'progress' topic. */
export const reporter = defineActor({
  kind: 'reporter',
  init: () => ({ lines: [] as string[] }),
  handlers: {
    start: (_state, _p: void, ctx) => ctx.subscribe('progress'),
    progress: (state, p: { from: string; finding: string }) => {
      state.lines.push(p.finding);
    },
    lines: (state) => state.lines,
  },
});

/** Splits a job over researchers (round robin) and gathers the findings. */
export const coordinator = defineActor({
  kind: 'coordinator',
  init: (args: { team: ActorRef<typeof researcher>[] }) => ({ team: args.team, next: 0 }),
  handlers: {
    run: async (state, topics: string[], ctx) => {
      const jobs = topics.map((topic) => ctx.ask(state.team[state.next++ % state.team.length], 'research', topic));
      return Promise.all(jobs);
    },
  },
});
