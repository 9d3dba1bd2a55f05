// Profiling aid (not a kernel of `npm run bench`): same-thread tells to one actor of one state of bench/actors.ts,
// e.g. `node --cpu-prof --import tsx bench/one-state.ts 'map: 1000'` ('flat' for tally). Prints the best CPU time per message.
import './lib/env.ts';
import { Runtime } from '../runtime/index.ts';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { nestedStates, tally } from './actors.ts';

const name = process.argv[2] ?? 'log: {}';
const rounds = Number(process.env.ROUNDS ?? 10);
const N = 200_000;
const def = (name === 'flat' ? tally : (nestedStates as Record<string, ActorDefinition>)[name]) as ActorDefinition;
const rt = await Runtime.start({ workers: 0 });
const ref = (await rt.spawn(def)) as ActorRef;
let total = 0;
let best = Infinity;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
  const count = await rt.ask(ref, 'get', undefined, { timeoutMs: 60_000 });
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (count !== (total += N)) throw new Error(`counted ${count}, expected ${total}`);
  if (r >= 2) best = Math.min(best, ((cpu.user + cpu.system) * 1000) / N);
  if (process.env.VERBOSE) console.log(`${name}: ${(N / s / 1e6).toFixed(2)} M msg/s`);
}
console.log(`${name.padEnd(14)} ${best.toFixed(1)} ns/msg (CPU, best of rounds 3-${rounds}, tell + handling)`);
await rt.shutdown();
