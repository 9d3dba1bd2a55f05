import { Worker } from 'node:worker_threads';
import { open } from 'lmdb';
import { ENV_OPTIONS } from '../../persistence/index.ts';
import { withDataDir } from './datadir.ts';

/** The payload of every persistence figure: ~100 B once msgpack-encoded (raw value or journaled message). */
export const PAYLOAD = { text: 'x'.repeat(60), n: 42, ok: true };

/**
 * The persistence baseline: raw lmdb-js, the library the store is built on, used the fastest durable way.
 * `messages` puts of one ~100 B record each, `perTurn` of them issued in one event-loop turn (lmdb-js commits a
 * turn's writes as one transaction: group commit), each turn awaited until `flushed` (fsync done, not merely
 * committed), on a fresh environment opened with the store's own ENV_OPTIONS. Returns records/s.
 */
export function rawGroupCommit(messages: number, perTurn: number): Promise<number> {
  return withDataDir(async (dir) => {
    const root = open({ path: dir, ...ENV_OPTIONS });
    try {
      const db = root.openDB('raw', {});
      const t0 = performance.now();
      for (let i = 0; i < messages; ) {
        const end = Math.min(messages, i + perTurn);
        for (; i < end; i++) db.put(['actor', i], { id: String(i).padStart(21, '0'), type: 'record', payload: PAYLOAD });
        await db.flushed;
      }
      return messages / ((performance.now() - t0) / 1000);
    } finally {
      await root.close();
    }
  });
}

/**
 * rawGroupCommit on a worker thread of its own: its own heap and JIT, so the two contenders of a paired bench
 * neither bill each other's garbage nor need a forced gc between rounds (which slows the next round of the
 * contender with the larger code base: bench/persistence/durable.ts). The caller waits idle while it runs.
 */
export function isolatedRawGroupCommit(): { run(messages: number, perTurn: number): Promise<number>; close(): Promise<number> } {
  const worker = new Worker(new URL('./lmdb-raw-worker.mjs', import.meta.url));
  return {
    run: (messages, perTurn) =>
      new Promise((resolve, reject) => {
        const done = (m: { rate?: number; error?: string }) => {
          off();
          if (m.error !== undefined) reject(new Error(m.error));
          else resolve(m.rate!);
        };
        const failed = (err: unknown) => {
          off();
          reject(err instanceof Error ? err : new Error(`raw baseline worker exited (${String(err)})`));
        };
        const off = () => {
          worker.off('message', done);
          worker.off('error', failed);
          worker.off('exit', failed);
        };
        worker.on('message', done);
        worker.on('error', failed);
        worker.on('exit', failed);
        worker.postMessage({ messages, perTurn });
      }),
    close: () => worker.terminate(),
  };
}
