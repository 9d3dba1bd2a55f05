// A real LMDB environment in a fresh temp directory per test, removed afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ActorStore, type ActorStoreOptions, type Snapshot } from '../../persistence/index.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  // Reverse order: stores close before their directory goes.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-persistence-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function openStore(options?: ActorStoreOptions, dir = tempDir()): { store: ActorStore; dir: string } {
  const store = ActorStore.open(dir, options);
  cleanups.push(() => store.close());
  return { store, dir };
}

export function snap<S>(seq: number, state: S, version = 1): Snapshot<S> {
  return { version, seq, state, at: 1_700_000_000_000 + seq };
}
