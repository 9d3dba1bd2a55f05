// One lmdb-js handle per store directory per thread, shared by every ActorStore opened there (reference-counted).
//
// Why: a second handle of one environment on one thread can deadlock that thread. Opening a handle (its openDB)
// runs a synchronous write transaction, which waits for LMDB's write lock. If another handle on the same thread
// has a commit under way, lmdb-js's write thread holds that lock while it waits for this JS thread to run the
// batch's transaction callback (persistence/group-commit.ts): neither can go on, for good (the main thread
// blocked in mdb_txn_begin, the hang seen in test/persistence/actors.test.ts under load). A synchronous
// transaction on the handle whose write thread holds the lock interrupts that batch instead (lmdb-js's
// AcquireTxn), so one handle per thread cannot deadlock itself; other threads' handles only wait their turn.
import { resolve } from 'node:path';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { PoisonMessage, Snapshot } from './store.ts';
import type { DeliveryRecord } from './poison.ts';

/** Options every opener of a store directory must use (the first opener's flags win: see store.ts). */
export const ENV_OPTIONS = {
  noSubdir: false, // lmdb-js treats a path with a '.' in its last segment as a file; ours is always a directory
  maxDbs: 8,
  // No object cache: it is per thread and would serve stale values after another thread writes.
  // No sharedStructuresKey: saving new shared structures runs a hidden transactionSync.
  cache: false,
} as const;

/** A directory's handle on this thread and its tables (store.ts's layout). */
export interface ThreadEnv {
  readonly root: RootDatabase;
  readonly snapshots: Database<Snapshot, string>;
  readonly history: Database<Snapshot, Key>; // [actorId, seq]
  readonly journal: Database<Uint8Array, Key>; // [actorId, first seq] -> segment of framed messages
  readonly messageIds: Database<number, Key>; // [actorId, messageId] -> seq
  readonly deliveries: Database<DeliveryRecord, string>; // actorId -> replays of its journal's head
  readonly poison: Database<PoisonMessage, Key>; // [actorId, seq] -> a message set aside
}

interface Entry {
  readonly env: ThreadEnv;
  users: number;
}

const entries = new Map<string, Entry>();

/** This thread's handle of `dir`, opened (with its tables) by the first user. Give it back with releaseEnv. */
export function acquireEnv(dir: string): ThreadEnv {
  const key = resolve(dir);
  let entry = entries.get(key);
  if (entry === undefined) {
    const root = open({ path: dir, ...ENV_OPTIONS });
    const env: ThreadEnv = {
      root,
      snapshots: root.openDB<Snapshot, string>('snapshots', {}),
      history: root.openDB<Snapshot, Key>('snapshotHistory', {}),
      journal: root.openDB<Uint8Array, Key>('journal', { encoding: 'binary' }),
      messageIds: root.openDB<number, Key>('messageIds', {}),
      deliveries: root.openDB<DeliveryRecord, string>('deliveries', {}),
      poison: root.openDB<PoisonMessage, Key>('poison', {}),
    };
    entries.set(key, (entry = { env, users: 0 }));
  }
  entry.users++;
  return entry.env;
}

/** One user is done with `env` (its writes settled): the last one closes the handle. */
export function releaseEnv(env: ThreadEnv): Promise<void> {
  for (const [key, entry] of entries) {
    if (entry.env !== env) continue;
    if (--entry.users > 0) return Promise.resolve();
    entries.delete(key);
    return env.root.close();
  }
  return Promise.resolve(); // released already
}
