// Shutdown never terminates a worker thread during a store commit (runtime/commit-fence.ts): lmdb-js's write thread
// would keep LMDB's write lock for good, waiting for a callback of the terminated thread, and the next write
// transaction in the process (the main thread's mdb_txn_begin) would block forever: the suite hangs seen at load ~7.
// Real worker threads, real LMDB; the worker is kept from confirming by blocking it with a commit in flight.
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { tempDir } from './helpers.ts';
import { durableCounter } from '../fixtures/durable.ts';
import { blocker } from '../fixtures/blocker.ts';

const run = promisify(execFile);
const reader = path.join(import.meta.dirname, 'fixtures', 'read-counter.ts');

async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

describe('shutdown with store commits in flight on a worker', { timeout: 120_000 }, () => {
  it('waits for the commits, then completes; what was journaled is on disk', async () => {
    const dataDir = tempDir();
    const signals = tempDir();
    const waited: Array<[number, number]> = [];
    const runtime = await Runtime.start({
      workers: 2,
      dataDir,
      stallMs: 0, // worker 1 is blocked on purpose
      harness: {
        shutdownWaiting: (node, commits) => {
          waited.push([node, commits]);
          fs.writeFileSync(path.join(signals, 'release'), ''); // only now may worker 1 go on
        },
      },
    });
    try {
      const counter = await runtime.spawn(durableCounter, { id: 'c', pin: 1 });
      const b = await runtime.spawn(blocker, { pin: 1 });
      expect(await runtime.ask(counter, 'add', 1)).toBe(1);
      // One post to worker 1: the add is journaled (its commit queued: lmdb-js calls back into worker 1 to run it),
      // then the blocker stops worker 1's thread, so that commit cannot complete until it is released.
      runtime.tell(counter, 'add', 41);
      runtime.tell(b, 'hold', signals);
      await until(() => fs.existsSync(path.join(signals, 'held')), 'worker 1 blocked');
      await runtime.shutdown(); // worker 1 cannot confirm in time: it has a commit in flight, so it is waited for
    } finally {
      fs.writeFileSync(path.join(signals, 'release'), '');
    }
    expect(waited.map(([node]) => node)).toEqual([1]);
    expect(waited[0]![1]).toBeGreaterThan(0);
    // A fresh process reads the store: the journaled add is there (and the store is not left locked).
    const { stdout } = await run(process.execPath, ['--import', 'tsx', reader, dataDir, 'c'], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ count: 42 });
  });
});
