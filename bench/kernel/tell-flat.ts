// Figure 1-flat: 200k tells to one counting actor with a flat state `{ count }` on the calling thread, then one ask
// to wait for them, vs nact. In a process of its own: run after the nested states of figure 1 in one process, the
// same handler path is polymorphic and the flat figure drops by a quarter (16.8x against 23-24x alone).
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { tally } from '../actors.ts';
import { nactGet, nactSystem, nactTell } from '../lib/nact.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 200_000;

const rt = await Runtime.start({ workers: 0 });
const ref = await rt.spawn(tally);
const nact = nactSystem();
const nref = nact.counter();
let troupeTotal = 0;
let nactTotal = 0;

const runs = await interleave({ warmup: 3, runs: 5 }, {
  async troupe() {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
    const count = await rt.ask(ref, 'get');
    const s = (performance.now() - t0) / 1000;
    if (count !== (troupeTotal += N)) throw new Error(`troupe counted ${count}, expected ${troupeTotal}`);
    return N / s;
  },
  async nact() {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) nactTell(nref, 1);
    const count = await nactGet(nref);
    const s = (performance.now() - t0) / 1000;
    if (count !== (nactTotal += N)) throw new Error(`nact counted ${count}, expected ${nactTotal}`);
    return N / s;
  },
});

await rt.shutdown();
nact.stop();

emit({
  rows: [makeRow({
    figure: '1-flat. the same, flat state { count } (a process of its own)', unit: 'msg/s', baselineName: 'nact',
    target: { on: 'ratio', op: '>=', value: 20 }, runs: { troupe: runs.troupe, baseline: runs.nact },
  })],
});
