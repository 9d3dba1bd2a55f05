// Run twice with the same data dir: the count survives the process. Usage: node --import tsx app.ts <dataDir> <run>
import { Runtime, type ActorRef } from 'troupe';
import type { OpsServer } from 'troupe/ops';
import { counter, doubler } from './actors.ts';

const [dataDir, run] = process.argv.slice(2);
const runtime = await Runtime.start({ workers: 2, dataDir });
const c: ActorRef<typeof counter> = await runtime.spawn(counter, { id: 'c1', pin: 1, args: { start: 1 } });
const d = await runtime.spawn(doubler, { pin: 2 });
runtime.tell(c, 'add', 20);
const count: number = await runtime.ask(c, 'get');
const doubled: number = await runtime.ask(d, 'double', c);
if (run === 'never') {
  // @ts-expect-error add takes a number: payload inference reaches the app through the installed .d.ts
  runtime.tell(c, 'add', 'twenty');
  // @ts-expect-error get replies with a number
  const wrong: string = await runtime.ask(c, 'get');
  // @ts-expect-error no such message type
  runtime.tell(c, 'subtract', 1);
  const ops: OpsServer | undefined = undefined;
  console.log(wrong, ops);
}
console.log(`ts run ${run}: threads ${c.node} and ${d.node}, count ${count}, doubled ${doubled}`);
await runtime.shutdown();
