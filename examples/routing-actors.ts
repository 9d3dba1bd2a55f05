// examples/routing-actors.ts: agents that offer capabilities (definitions only: workers import this module).
import { defineActor } from '../runtime/index.ts';

/** A reviewer: offers 'code-review'; some reviewers are given 'security' too when they are spawned. */
export const reviewer = defineActor({
  kind: 'reviewer',
  capabilities: ['code-review'],
  init: (args: { name: string }) => ({ name: args.name, reviewed: 0 }),
  handlers: {
    review: (state, diff: string) => {
      state.reviewed++;
      return `${state.name} reviewed ${diff.split('\n').length} line(s)`;
    },
    reviewed: (state) => state.reviewed,
  },
});

/** A lead hands work to "the reviewers" without knowing who they are: the route travels in the message. */
export const lead = defineActor({
  kind: 'lead',
  init: () => ({}),
  handlers: {
    delegate: async (_state, job: { reviewers: { capability: string }; diffs: string[] }, ctx) => {
      const reviews = await Promise.all(job.diffs.map((diff) => ctx.ask(job.reviewers, 'review', diff)));
      return reviews.length;
    },
  },
});
