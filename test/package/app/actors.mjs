// Actor definitions in a module of their own: worker threads import it (plain JavaScript, no loader).
import { defineActor } from 'troupe';

export const account = defineActor({
  kind: 'account',
  persistence: { durableMailbox: true },
  init: () => ({ balance: 0 }),
  handlers: {
    deposit: (state, amount) => {
      state.balance += amount;
    },
    balance: (state) => state.balance,
  },
});
