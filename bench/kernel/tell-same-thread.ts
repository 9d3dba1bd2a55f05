// Figure 1: 200k tells to one counting actor on the calling thread, then one ask to wait for them, vs nact (a
// counting actor, its state a number). Headline: the conversation state `{ count, messages: [50 x ~200 chars] }`
// (bench/actors.ts); beside it the other nested states of issue 15. The flat `{ count }` (the old figure 1) runs in a
// process of its own (tell-flat.ts).
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorDefinition, ActorRef } from '../../actors/define.ts';
import { nestedStates, tallyChat } from '../actors.ts';
import { nactGet, nactSystem, nactTell } from '../lib/nact.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';

const N = 200_000;

const rt = await Runtime.start({ workers: 0 });
const nact = nactSystem();
const nref = nact.counter();
let nactTotal = 0;

async function nactRound(): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) nactTell(nref, 1);
  const count = await nactGet(nref);
  const s = (performance.now() - t0) / 1000;
  if (count !== (nactTotal += N)) throw new Error(`nact counted ${count}, expected ${nactTotal}`);
  return N / s;
}

/** Paired rounds of `def` against nact: one row. */
async function figure(label: string, def: ActorDefinition, target: number | undefined): Promise<ReturnType<typeof makePairedRow>> {
  const ref = (await rt.spawn(def)) as ActorRef;
  let total = 0;
  const runs = await interleave({ warmup: 3, runs: 5 }, {
    async troupe() {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
      const count = await rt.ask(ref, 'get', undefined, { timeoutMs: 60_000 });
      const s = (performance.now() - t0) / 1000;
      if (count !== (total += N)) throw new Error(`troupe (${label}) counted ${count}, expected ${total}`);
      return N / s;
    },
    nact: nactRound,
  });
  return makePairedRow({
    figure: `1${label}`, unit: 'msg/s', baselineName: 'nact',
    target: target === undefined ? undefined : { on: 'ratio', op: '>=', value: target }, runs: { troupe: runs.troupe, baseline: runs.nact },
  });
}

const rows = [
  await figure('. same-thread tell throughput, state { count, messages: [50] }', tallyChat, 15),
];
for (const [name, def] of Object.entries(nestedStates)) {
  if (def === tallyChat) continue;
  rows.push(await figure(`-${name}. the same, state ${name}`, def, 15));
}

await rt.shutdown();
nact.stop();
emit({ rows });
