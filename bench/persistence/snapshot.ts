// Figure 10: what persistence costs a plain persistent actor (a snapshot after every message, no durable
// mailbox): N tells then one ask, vs the same actor without persistence, in the same runtime, interleaved rounds
// (paired ratio), on the calling thread (workers: 0) and from the main thread to worker 1 (workers: 1).
//
// Snapshot writes are group-committed and not awaited by the handler, so the persistent round ends with a barrier:
// rt.send to an actor with a durable mailbox on the same thread resolves once its journal append is flushed, and
// that write was queued after every snapshot write of the round (lmdb-js runs write transactions in order). So
// the persistent figure is "handled, and every snapshot on disk", and no write spills into the next round.
import '../lib/env.ts';
import { Runtime } from '../../runtime/index.ts';
import type { ActorRef } from '../../runtime/index.ts';
import { durableTally, plainTally, snapshotTally } from '../actors.ts';
import { withDataDir } from '../lib/datadir.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, type Row } from '../lib/rows.ts';

const N = 20_000;
const rounds = { warmup: 2, runs: 5 };

function configuration(workers: number, figure: string): Promise<Row> {
  return withDataDir(async (dataDir) => {
    const rt = await Runtime.start({ workers, dataDir, stallMs: 0, spareWorker: false });
    try {
      const pin = workers > 0 ? 1 : 0;
      const persistent = await rt.spawn(snapshotTally, { id: 'snapshotted', pin });
      const plain = await rt.spawn(plainTally, { id: 'plain', pin });
      const barrier = await rt.spawn(durableTally, { id: 'barrier', pin });
      if ([persistent, plain, barrier].some((r) => r.node !== pin)) throw new Error('actors not placed as pinned');
      const totals = new Map<string, number>();
      const tells = (ref: ActorRef<typeof snapshotTally> | ActorRef<typeof plainTally>, durable: boolean) => async () => {
        const t0 = performance.now();
        for (let i = 0; i < N; i++) rt.tell(ref, 'add', 1);
        const count = await rt.ask(ref, 'get');
        if (durable) await rt.send(barrier, 'get');
        const rate = N / ((performance.now() - t0) / 1000);
        const expected = (totals.get(ref.id) ?? 0) + N;
        totals.set(ref.id, expected);
        if (count !== expected) throw new Error(`${ref.id} counted ${count}, expected ${expected}`);
        return rate;
      };
      const runs = await interleave(rounds, { persistent: tells(persistent, true), plain: tells(plain, false) });
      return makePairedRow({ figure, unit: 'msg/s', baselineName: 'same actor, no persistence', runs: { troupe: runs.persistent, baseline: runs.plain } });
    } finally {
      await rt.shutdown();
    }
  });
}

emit({
  rows: [
    await configuration(0, '10a. snapshot every message, same thread'),
    await configuration(1, '10b. snapshot every message, main -> worker'),
  ],
  detail: { messages: N, rounds },
});
