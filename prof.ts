import { Runtime } from './runtime/index.ts';
import { counter } from './test/fixtures/counter.ts';
const rt = await Runtime.start({ workers: 0 });
const ref = await rt.spawn(counter, { args: { start: 0 } });
for (let r = 0; r < 5; r++) {
  let t = performance.now();
  for (let i = 0; i < 200000; i++) rt.tell(ref, 'add', 1);
  await rt.ask(ref, 'get');
  console.log((200000 / (performance.now() - t) * 1000 / 1e6).toFixed(2), 'M/s');
}
await rt.shutdown();
