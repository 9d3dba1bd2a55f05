import type { Snapshot } from '../persistence/store.ts';

export type Table = Map<string, Map<string | number, Uint8Array>>;
export const TABLES = ['snapshots', 'history', 'journal', 'messageIds', 'deliveries', 'poison'] as const;
export type TableName = (typeof TABLES)[number];

/**
 * What survives a process kill: the committed tables, shared by every handle opened on it (as every thread's
 * handle shares one LMDB environment). Per table, actor id -> key -> the value's bytes (msgpack, as LMDB stores).
 */
export class MemoryDisk {
  readonly tables: Record<TableName, Table> = Object.fromEntries(TABLES.map((t) => [t, new Map()])) as Record<TableName, Table>;
  /** Commits applied, over every handle. */
  commits = 0;
  /** The next `n` commits fail whole (nothing of them applied): a failed LMDB commit (a full disk, an I/O error). */
  failCommits = 0;
  /**
   * false (default): a batch commits one microtask after it starts. true: it commits when its handle's flush() is
   * called (the simulation flushes when a step's microtasks are done, so a batch holds what LMDB's would: every
   * write issued before the transaction runs).
   */
  commitOnFlush = false;

  row(table: TableName, actorId: string): Map<string | number, Uint8Array> {
    let m = this.tables[table].get(actorId);
    if (m === undefined) this.tables[table].set(actorId, (m = new Map()));
    return m;
  }
}

/** One write of a batch, applied in call order at its commit. */
export type Op = { table: TableName; actor: string; key: string | number; value: Uint8Array | undefined } | { run: () => void } | { segment: Segment };
/** The messages one actor journals in one batch (stored as one value, as persistence/segment.ts does). */
export class Segment {
  readonly messages: Uint8Array[] = [];
  bytes = 0;
  constructor(readonly actor: string, readonly first: number) {}
}
/** The writes gathered for one commit. */
export class Batch {
  readonly ops: Op[] = [];
  readonly segments = new Map<string, Segment>();
  yielded = false;
  done!: Promise<void>;
  /** Starts the commit (disk.commitOnFlush). */
  start: (() => void) | undefined;
  constructor(readonly number: number) {}
}

export function isSnapshot(v: unknown): v is Snapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.version === 'number' && typeof s.seq === 'number' && typeof s.at === 'number' && 'state' in s;
}
