// A TypeScript system module for the installed `troupe` command: its actors (TypeScript) live on a worker thread.
import { defineSystem, type ActorRef } from 'troupe';
import { counter } from './actors.ts';

let c: ActorRef<typeof counter> | undefined;
export default defineSystem({
  name: 'counting',
  async start(runtime) {
    c = await runtime.spawn(counter, { id: 'c', pin: 1, args: { start: 1 } });
  },
  async run(runtime, { progress }) {
    runtime.tell(c!, 'add', 1);
    progress(`count ${await runtime.ask(c!, 'get')} on thread ${c!.node}`);
  },
});
