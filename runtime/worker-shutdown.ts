/**
 * How shutdown decides that a worker thread may be terminated. A worker confirms shutdown once its store is closed
 * (every commit durable). One that does not confirm in time is terminated anyway, but never while it has a store
 * commit in flight (runtime/commit-fence.ts: that would leave LMDB's write lock held for good): it is fenced (no
 * commit may start) once its commits are over, waiting for that at most COMMITS_MS more, with a warning.
 */
import type { CommitFence } from './commit-fence.ts';
import type { Logger } from './logger.ts';

/** How long a worker has to confirm shutdown (ms, real time). */
export const CONFIRM_MS = 2000;
/** How much longer a worker that did not confirm is waited for while it has store commits in flight (ms). */
export const COMMITS_MS = 30_000;
/** How often the commits in flight are looked at meanwhile (ms). */
const POLL_MS = 10;

/**
 * 'confirmed': the worker closed its store and said so. 'fenced': it did not, but has no commit in flight and can
 * start none. 'in-flight': commits were still in flight when the wait ran out, or its thread died during one:
 * terminating it (or having lost it) may leave the store locked in this process.
 */
export type WorkerStopOutcome = 'confirmed' | 'fenced' | 'in-flight';

export interface WorkerStop {
  node: number;
  /** Settles when the worker confirms shutdown. */
  confirmed: Promise<unknown>;
  fence: CommitFence | undefined;
  /** Whether the worker's thread has exited. */
  exited: () => boolean;
  log: Logger;
  /** Told when the wait for the worker's commits begins (RuntimeHarness.shutdownWaiting). */
  waiting?: (node: number, commits: number) => void;
  confirmMs?: number;
  commitsMs?: number;
}

export async function stopWorker(w: WorkerStop): Promise<WorkerStopOutcome> {
  if (await within(w.confirmed, w.confirmMs ?? CONFIRM_MS)) return 'confirmed';
  w.log.warn({ node: w.node }, 'worker did not confirm shutdown in time');
  if (w.fence === undefined || w.fence.fence()) return 'fenced';
  const commits = w.fence.inFlight;
  w.log.warn({ node: w.node, commits }, 'worker has store commits in flight: waiting for them before terminating it');
  w.waiting?.(w.node, commits);
  const polls = Math.ceil((w.commitsMs ?? COMMITS_MS) / POLL_MS);
  for (let i = 0; i < polls && !w.exited(); i++) {
    if (await within(w.confirmed, POLL_MS)) return 'confirmed';
    if (w.fence.fence()) return 'fenced';
  }
  if (w.fence.fence()) return 'fenced';
  w.log.error({ node: w.node, commits: w.fence.inFlight }, 'terminating a worker with store commits in flight: its store is left locked in this process');
  return 'in-flight';
}

/** Whether `p` settles within `ms` (a ref'd timer: shutdown must finish). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
