// Persistence throughput: raw lmdb-js group-commit puts vs ActorStore's exactly-once path, in one process.
// Run: npx tsx bench/persistence-raw.ts   (env: MESSAGES, PER_TURN, REPS, SERIAL_MESSAGES)
// Both sides wait for `flushed` (durable), never for the commit alone. The host is noisy: read the ratio.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { ActorStore, ENV_OPTIONS } from '../persistence/index.ts';

const MESSAGES = Number(process.env.MESSAGES ?? 20_000);
const PER_TURN = Number(process.env.PER_TURN ?? 1_000); // like a scheduler turn budget
const REPS = Number(process.env.REPS ?? 3);
// One message per turn: nothing to share a commit with, so each write waits for its own fsync.
const SERIAL_MESSAGES = Number(process.env.SERIAL_MESSAGES ?? 300);

const payload = { text: 'x'.repeat(60), n: 42, ok: true }; // ~100 B encoded
const state = { count: 0, last: 'y'.repeat(60) }; // ~100 B snapshot state

type Result = { rate: number; commits: number };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-bench-'));
}

/** (a) One put per message, perTurn of them issued in one turn, then await flushed. */
async function raw(messages = MESSAGES, perTurn = PER_TURN): Promise<Result> {
  const dir = tempDir();
  const root = open({ path: dir, ...ENV_OPTIONS });
  const db = root.openDB('raw', {});
  let commits = 0;
  root.on('aftercommit', () => void commits++);
  const t0 = performance.now();
  for (let i = 0; i < messages; ) {
    const end = Math.min(messages, i + perTurn);
    for (; i < end; i++) db.put(['actor', i], { id: `m${i}`, type: 't', payload });
    await db.flushed;
  }
  const rate = messages / ((performance.now() - t0) / 1000);
  await root.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rate, commits };
}

/** (b) Per message: appendJournal (durable), then commitHandled (durable), perTurn messages per turn. */
async function store(actors: number, messages = MESSAGES, perTurn = PER_TURN): Promise<Result> {
  const dir = tempDir();
  const s = ActorStore.open(dir);
  const t0 = performance.now();
  for (let i = 0; i < messages; ) {
    const batch: Array<{ actor: string; id: string }> = [];
    const end = Math.min(messages, i + perTurn);
    for (; i < end; i++) batch.push({ actor: `actor${i % actors}`, id: `m${i}` });
    const seqs = await Promise.all(batch.map((m) => s.appendJournal(m.actor, { id: m.id, type: 't', payload })));
    await Promise.all(
      batch.map((m, k) =>
        s.commitHandled(m.actor, {
          seq: seqs[k],
          messageId: m.id,
          snapshot: { version: 1, seq: seqs[k], state: { ...state, count: seqs[k] }, at: Date.now() },
        }),
      ),
    );
  }
  const rate = messages / ((performance.now() - t0) / 1000);
  const commits = s.commitCount;
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rate, commits };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}`;

type Run = () => Promise<Result>;
// [name, run, baseline name]
const variants: Array<[string, Run, string]> = [
  ['raw put + flushed', () => raw(), 'raw put + flushed'],
  ['store, 1 actor', () => store(1), 'raw put + flushed'],
  ['store, 10 actors', () => store(10), 'raw put + flushed'],
  ['store, 100 actors', () => store(100), 'raw put + flushed'],
  ['raw, 1 msg/turn', () => raw(SERIAL_MESSAGES, 1), 'raw, 1 msg/turn'],
  ['store, 1 msg/turn', () => store(1, SERIAL_MESSAGES, 1), 'raw, 1 msg/turn'],
];
await raw(); // warm up the JIT and the file system
await store(10);
const results = new Map<string, { rates: number[]; commits: number; base: string }>();
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, run, base] of variants) {
    const r = await run();
    const entry = results.get(name) ?? { rates: [], commits: r.commits, base };
    entry.rates.push(r.rate);
    results.set(name, entry);
  }
}
console.log(`${MESSAGES} msgs at ${PER_TURN}/turn (serial rows: ${SERIAL_MESSAGES} at 1/turn)`);
console.log(`median of ${REPS}, node ${process.version}, ~100 B payloads and snapshots, writes awaited to flushed`);
console.log('variant               msgs/s     commits  ratio vs raw');
for (const [name, { rates, commits, base }] of results) {
  const m = median(rates);
  const ratio = m / median(results.get(base)!.rates);
  console.log(`${name.padEnd(20)}  ${fmt(m).padStart(8)}  ${String(commits).padStart(10)}  ${ratio.toFixed(2)}`);
}
