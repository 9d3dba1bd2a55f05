// examples/quickstart.ts: the tour, runnable with `npx tsx examples/quickstart.ts` (the tests run it).
import { Runtime } from '../runtime/index.ts';
import { counter, doubler } from './quickstart-actors.ts';

const runtime = await Runtime.start({ workers: 2 });
const c = await runtime.spawn(counter, { id: 'c1', args: { start: 1 } });
const d = await runtime.spawn(doubler, { near: c }); // same thread as c: no cross-thread hop
runtime.tell(c, 'add', 20);
console.log('count =', await runtime.ask(c, 'get')); // 21
console.log('doubled =', await runtime.ask(d, 'double', c)); // 42
console.log('count =', await runtime.ask(c, 'get', undefined, { timeoutMs: 1000 })); // 42
await runtime.shutdown();
