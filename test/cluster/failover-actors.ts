import { appendFileSync } from 'node:fs';
import { defineActor } from '../../runtime/index.ts';

/**
 * A failover account: its state is what the journal folds to. Every deposit it applies is also a side effect, a
 * line `pid time messageId` in $TROUPE_EFFECTS_FILE: how a test sees which process applied what, and when.
 */
export const account = defineActor({
  kind: 'failover-account',
  init: () => ({ total: 0, ids: [] as string[] }),
  handlers: {
    deposit: (state, amount: number, ctx) => {
      state.total += amount;
      state.ids.push(ctx.messageId);
      const file = process.env.TROUPE_EFFECTS_FILE;
      if (file) appendFileSync(file, `${process.pid} ${Date.now()} ${ctx.messageId}\n`);
    },
    /** The same, after a pause (an async handler: the actor is busy meanwhile, the event loop is not). */
    slowDeposit: async (state, amount: number, ctx) => {
      await new Promise((r) => setTimeout(r, 10));
      state.total += amount;
      state.ids.push(ctx.messageId);
      const file = process.env.TROUPE_EFFECTS_FILE;
      if (file) appendFileSync(file, `${process.pid} ${Date.now()} ${ctx.messageId}\n`);
    },
    state: (state) => ({ total: state.total, ids: state.ids, pid: process.pid }),
    /** Answers `value` after `ms` (the actor busy meanwhile). */
    echoAfter: async (_state, m: { ms: number; value: string }) => {
      await new Promise((r) => setTimeout(r, m.ms));
      return m.value;
    },
    /** Crashes (the state as it was): what a supervisor of a cluster-owned child hears of. */
    boom: () => {
      throw new Error('boom');
    },
  },
});

/** A failover account offering a capability: routes reach it by its public id, through its journal. */
export const capableAccount = defineActor({
  kind: 'capable-account',
  capabilities: ['accounts'],
  init: () => ({ total: 0 }),
  handlers: {
    deposit: (state, amount: number) => {
      state.total += amount;
    },
    total: (state) => state.total,
  },
});
