// Figure 9g-h: the store underneath figure 9, without the runtime: ActorStore's exactly-once path driven directly
// (per message: appendJournal, durable; then per actor one ~100 B snapshot removing the handled entries, durable), vs the same raw
// lmdb-js baseline, interleaved rounds in one process (paired ratio). It bounds what the runtime can reach in
// figure 9: the runtime adds its own work on top, and cannot beat the store it drives.
// - 9g: 100 actors, WINDOW messages per turn: group commit, as in figure 9.
// - 9h: one message per turn (nothing to share a commit with: each write waits for its own fsync): latency-bound.
// (Was bench/persistence-raw.ts.)
import '../lib/env.ts';
import { ActorStore } from '../../persistence/index.ts';
import { withDataDir } from '../lib/datadir.ts';
import { PAYLOAD, rawGroupCommit } from '../lib/lmdb-raw.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow } from '../lib/rows.ts';

const N = 20_000;
const WINDOW = 1_000;
const SERIAL_N = 300;
const ACTORS = 100;
const rounds = { warmup: 1, runs: 3 };
const state = { count: 0, n: 42, note: 'y'.repeat(60) }; // the snapshot state of bench/actors.ts durableTally

/**
 * The store driven the way the runtime drives it for a durable mailbox: every message journaled (seq kept by the
 * caller; one segment per actor per commit), awaited; then each actor that handled messages writes one snapshot of
 * its latest state, which removes the handled segments in the same commit, awaited. Returns messages/s and LMDB commits per window.
 */
function store(messages: number, perTurn: number): Promise<{ rate: number; commitsPerWindow: number }> {
  return withDataDir(async (dir) => {
    const s = ActorStore.open(dir);
    const seqs = new Array<number>(ACTORS).fill(0);
    try {
      const t0 = performance.now();
      for (let i = 0; i < messages; ) {
        const appends: Promise<void>[] = [];
        const segments = new Map<number, Set<number>>(); // actor -> first seqs of the segments its messages joined
        const end = Math.min(messages, i + perTurn);
        for (; i < end; i++) {
          const a = i % ACTORS;
          const seq = ++seqs[a];
          const appended = s.appendJournal(`actor-${a}`, seq, { id: String(i).padStart(21, '0'), type: 'record', payload: PAYLOAD });
          if (!segments.has(a)) segments.set(a, new Set());
          segments.get(a)!.add(appended.segment);
          appends.push(appended.done);
        }
        await Promise.all(appends);
        await Promise.all([...segments].map(([a, firsts]) => s.writeSnapshot(`actor-${a}`,
          { version: 1, seq: seqs[a], state: { ...state, count: seqs[a] }, at: Date.now() }, { removeSegments: [...firsts] })));
      }
      const rate = messages / ((performance.now() - t0) / 1000);
      return { rate, commitsPerWindow: s.commitCount / (messages / Math.max(perTurn, 1)) };
    } finally {
      await s.close();
    }
  });
}

const grouped = await interleave(rounds, { store: () => store(N, WINDOW), raw: async () => ({ rate: await rawGroupCommit(N, WINDOW), commitsPerWindow: 1 }) });
const serial = await interleave(rounds, { store: () => store(SERIAL_N, 1), raw: async () => ({ rate: await rawGroupCommit(SERIAL_N, 1), commitsPerWindow: 1 }) });
const rates = (xs: Array<{ rate: number }>) => xs.map((x) => x.rate);
emit({
  rows: [
    makePairedRow({
      figure: `9g. ActorStore append + snapshot, ${ACTORS} actors (no runtime)`, unit: 'msg/s', baselineName: 'raw lmdb put + flushed',
      runs: { troupe: rates(grouped.store), baseline: rates(grouped.raw) },
    }),
    makePairedRow({
      figure: '9h. ActorStore append + snapshot, 1 msg per turn', unit: 'msg/s', baselineName: 'raw, 1 put per turn',
      runs: { troupe: rates(serial.store), baseline: rates(serial.raw) },
    }),
  ],
  detail: {
    messages: N, window: WINDOW, serialMessages: SERIAL_N, actors: ACTORS,
    // The loop awaits every append before the commits: two commits per window (the runtime overlaps them).
    commitsPerWindow: grouped.store.map((x) => x.commitsPerWindow),
  },
});
