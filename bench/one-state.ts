// Profiling and A/B aid (not a kernel of `npm run bench`): same-thread tells to one actor of each state named (of
// bench/actors.ts; 'flat' for tally, 'nact' for nact's counter), one after the other in this process, e.g.
// `node --cpu-prof --import tsx bench/one-state.ts 'map: 1000'` or `... 'messages: 50,log: {},nact'` (several in one
// process, as tell-same-thread runs them). Prints the best CPU time per message over the rounds of each (CPU time,
// not wall time: on a shared host it moves far less with the load; docs/nested-state.md), and the best wall time.
// GC=1 (with node --expose-gc) forces a full gc before each round, as the bench driver's interleave() does.
import './lib/env.ts';
import { Runtime } from '../runtime/index.ts';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { nestedStates, tally } from './actors.ts';
import { nactGet, nactSystem, nactTell } from './lib/nact.ts';

const names = (process.argv[2] ?? 'log: {}').split(',');
const rounds = Number(process.env.ROUNDS ?? 10);
const N = 200_000;
const rt = await Runtime.start({ workers: 0 });
const nact = nactSystem();

/** Rounds of N tells and one ask (nact: a query); the best CPU time per message from the third round on. */
async function measure(name: string): Promise<string> {
  let total = 0;
  let best = Infinity;
  let bestWall = Infinity;
  let round: () => Promise<number>;
  if (name === 'nact') {
    const ref = nact.counter();
    round = async () => {
      for (let i = 0; i < N; i++) nactTell(ref, 1);
      return nactGet(ref);
    };
  } else {
    const def = (name === 'flat' ? tally : (nestedStates as Record<string, ActorDefinition>)[name]) as ActorDefinition;
    const ref = (await rt.spawn(def)) as ActorRef;
    round = async () => {
      for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
      return (await rt.ask(ref, 'get', undefined, { timeoutMs: 60_000 })) as number;
    };
  }
  for (let r = 0; r < rounds; r++) {
    if (process.env.GC === '1') (globalThis as { gc?: () => void }).gc?.();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const count = await round();
    const wall = performance.now() - w0;
    const cpu = process.cpuUsage(c0);
    if (count !== (total += N)) throw new Error(`counted ${count}, expected ${total}`);
    if (r >= 2) best = Math.min(best, ((cpu.user + cpu.system) * 1000) / N);
    if (r >= 2) bestWall = Math.min(bestWall, (wall * 1e6) / N);
  }
  return `${name.padEnd(14)} ${best.toFixed(1)} ns/msg CPU, ${bestWall.toFixed(1)} ns/msg wall (best of rounds 3-${rounds}, tell + handling)`;
}

for (const name of names) console.log(await measure(name));
await rt.shutdown();
nact.stop();
