// A plain persistent actor (snapshot after every message, no durable mailbox) vs the same actor without
// persistence, 20k tells then one ask, same process, paired rounds.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import { plainTally, snapshotTally } from '../actors.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';
import { dataDir } from './tmp.ts';

const N = 20_000;
const d = dataDir();
const rows = [];
for (const workers of [0, 1]) {
  const rt = await Runtime.start({ workers, dataDir: d.dir, stallMs: 0, spareWorker: false });
  const persistent = await rt.spawn(snapshotTally, { pin: workers });
  const plain = await rt.spawn(plainTally, { pin: workers });
  const measure = (ref: typeof persistent | typeof plain) => async () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
    await rt.ask(ref, 'get');
    return N / ((performance.now() - t0) / 1000);
  };
  const runs = await interleave({ warmup: 2, runs: 5 }, { persistent: measure(persistent), plain: measure(plain) });
  rows.push(makePairedRow({
    figure: `10${workers === 0 ? 'a' : 'b'}. snapshot every message, ${workers === 0 ? 'same thread' : 'on a worker'}`, unit: 'msg/s',
    baselineName: 'no persistence', runs: { troupe: runs.persistent, baseline: runs.plain },
  }));
  await rt.shutdown();
}
d.remove();
emit({ rows });
