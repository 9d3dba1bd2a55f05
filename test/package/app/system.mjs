// A system module for the installed `troupe` command.
import { defineSystem } from 'troupe';
import { account } from './actors.mjs';

let acct;
export default defineSystem({
  name: 'bank',
  async start(runtime) {
    acct = await runtime.spawn(account, { id: 'acct' });
  },
  async run(runtime, { progress }) {
    await runtime.send(acct, 'deposit', 5, { messageId: 'cli-deposit' });
    progress(`balance ${await runtime.ask(acct, 'balance')}`);
  },
});
