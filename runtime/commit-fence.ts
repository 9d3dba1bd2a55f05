/**
 * A worker thread's store commits in flight, in memory it shares with the main thread, so that the main thread can
 * tell, without asking the worker, whether terminating it is safe, and make sure no commit starts after it decided.
 *
 * Why: lmdb-js runs a commit on a native write thread that takes LMDB's write lock and then calls back into the JS
 * thread that queued it (the batch's transaction callback, persistence/group-commit.ts). A JS thread terminated
 * meanwhile never answers: the write thread waits for good with the lock held, and every later write transaction
 * on that environment in this process (the main thread's mdb_txn_begin, e.g. opening the store again) blocks
 * forever. So a worker is terminated only once it is fenced: no commit in flight, and none may start.
 *
 * One Int32 slot: the commits started and not yet over (durable or failed), or FENCED.
 */
import type { CommitGate } from '../persistence/group-commit.ts';

const FENCED = -1;

export class CommitFence implements CommitGate {
  readonly #slot: Int32Array;

  /** A new fence (the main thread), or the worker's view of one it was given at boot. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.#slot = new Int32Array(buffer);
  }

  /** Worker: a commit is about to start. False once fenced: it must not start. */
  enter(): boolean {
    for (;;) {
      const n = Atomics.load(this.#slot, 0);
      if (n === FENCED) return false;
      if (Atomics.compareExchange(this.#slot, 0, n, n + 1) === n) return true;
    }
  }

  /** Worker: a commit that entered is over. */
  exit(): void {
    Atomics.sub(this.#slot, 0, 1);
  }

  /** Commits in flight now (0 once fenced). */
  get inFlight(): number {
    return Math.max(0, Atomics.load(this.#slot, 0));
  }

  /** Main thread: fence the worker if no commit is in flight (none can start after). True when it is fenced. */
  fence(): boolean {
    const n = Atomics.compareExchange(this.#slot, 0, 0, FENCED);
    return n === 0 || n === FENCED;
  }
}
