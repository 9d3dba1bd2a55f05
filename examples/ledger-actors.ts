// examples/ledger-actors.ts: a durable account (definitions only: workers import this module).
import { defineActor } from '../runtime/index.ts';

/** A durable account: every deposit is journaled, applied exactly once, and survives a crash of the process. */
export const account = defineActor({
  kind: 'account',
  persistence: { durableMailbox: true },
  init: () => ({ balance: 0 }),
  handlers: {
    deposit: (state, amount: number) => {
      if (!(amount > 0)) throw new Error(`bad amount ${amount}`); // let it crash: the supervisor restarts it
      state.balance += amount;
    },
    balance: (state) => state.balance,
  },
});
