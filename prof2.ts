import { Runtime } from './runtime/index.ts';
import { counter } from './test/fixtures/counter.ts';
const rt = await Runtime.start({ workers: 1 });
const ref = await rt.spawn(counter, { args: { start: 0 } });
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let i = 0; i < 200000; i++) rt.tell(ref, 'add', 1);
  const n = await rt.ask(ref, 'get');
  console.log(n, (200000 / (performance.now() - t) * 1000 / 1e6).toFixed(2), 'M/s');
}
const lat: number[] = [];
for (let i = 0; i < 5000; i++) { const t = performance.now(); await rt.ask(ref, 'get'); lat.push(performance.now() - t); }
lat.sort((a, b) => a - b); console.log('cross ask p50 us', (lat[2500] * 1000).toFixed(1), 'p99', (lat[4950] * 1000).toFixed(1));
await rt.shutdown();
const rt0 = await Runtime.start({ workers: 0 });
const r0 = await rt0.spawn(counter, {});
const l0: number[] = [];
for (let i = 0; i < 5000; i++) { const t = performance.now(); await rt0.ask(r0, 'get'); l0.push(performance.now() - t); }
l0.sort((a, b) => a - b); console.log('same ask p50 us', (l0[2500] * 1000).toFixed(1), 'p99', (l0[4950] * 1000).toFixed(1));
await rt0.shutdown();
