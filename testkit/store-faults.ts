import type { ActorStore } from '../persistence/store.ts';
import type { CommitFault } from '../persistence/group-commit.ts';
import { InjectedFaultError } from './errors.ts';
import type { FaultPlan } from './faults.ts';

/**
 * The store faults of a plan, on real LMDB and on the in-memory store alike:
 * - `store-fail`: the k-th write the system asks of its store (a journal append or a snapshot) fails (patch()).
 * - `commit-fail`: the k-th commit fails whole, in its transaction, before it applies anything (the store's
 *   CommitFault seam, persistence/group-commit.ts): every write of it rejects, as for a commit LMDB refused.
 * - `crash-system` with `onCommit`: the whole system dies during its k-th commit: nothing of that commit is applied,
 *   its writes never settle, and every later commit of that incarnation is lost too (the process is gone).
 * Writes and commits are counted over every thread's handle and every incarnation of the system; the commits a
 * start makes (Runtime.start and the `setup` that builds the system, at first and after each crash) are not counted,
 * and none of them fails: a crash while the system recovers is not simulated.
 */
export class StoreFaults {
  private writes = 0;
  private commits = 0;
  private readonly failAt: Set<number>;
  private readonly failCommitAt: Set<number>;
  private readonly crashAt: Set<number>;
  /** The system died during a commit and has not restarted yet: its commits vanish. */
  private dying = false;
  /** The system is starting (Runtime.start and `setup`): its commits are not counted, and none fails. */
  starting = false;

  constructor(plan: FaultPlan, private readonly report: (detail: string) => void, private readonly crash: () => void = () => undefined) {
    this.failAt = new Set(plan.flatMap((f) => (f.kind === 'store-fail' ? [f.onWrite] : [])));
    this.failCommitAt = new Set(plan.flatMap((f) => (f.kind === 'commit-fail' ? [f.onCommit] : [])));
    this.crashAt = new Set(plan.flatMap((f) => (f.kind === 'crash-system' && 'onCommit' in f ? [f.onCommit] : [])));
  }

  /** The seam to open each store with, when the plan fails or cuts commits (undefined: none needed). */
  get commitFault(): CommitFault | undefined {
    if (this.failCommitAt.size === 0 && this.crashAt.size === 0) return undefined;
    return () => {
      if (this.dying) return 'vanish';
      if (this.starting) return undefined;
      const n = ++this.commits;
      if (this.crashAt.has(n)) {
        this.dying = true;
        this.report(`the system dies during commit #${n}`);
        this.crash();
        return 'vanish';
      }
      if (!this.failCommitAt.has(n)) return undefined;
      this.report(`commit #${n} fails`);
      return new InjectedFaultError(`injected failure of commit #${n}`);
    };
  }

  /** The system restarted from its store: its new handles commit again. */
  restarted(): void {
    this.dying = false;
  }

  private fails(what: string): InjectedFaultError | undefined {
    const n = ++this.writes;
    if (!this.failAt.has(n)) return undefined;
    this.report(`LMDB write #${n} (${what}) fails`);
    return new InjectedFaultError(`injected LMDB failure of write #${n} (${what})`);
  }

  /** Each store the system opens (testkit/stores.ts) passes here first. */
  patch(store: ActorStore): void {
    if (this.failAt.size === 0) return;
    const writeSnapshot = store.writeSnapshot.bind(store);
    const appendJournal = store.appendJournal.bind(store);
    store.writeSnapshot = (actorId, snapshot, options) => {
      const err = this.fails(`snapshot of ${actorId}`);
      if (err === undefined) return writeSnapshot(actorId, snapshot, options);
      const failed = Promise.reject(err);
      failed.catch(() => undefined);
      return failed;
    };
    store.appendJournal = (actorId, seq, message, remember) => {
      const err = this.fails(`journal append of ${actorId}`);
      const append = appendJournal(actorId, seq, message, remember);
      if (err === undefined) return append;
      const failed = Promise.reject(err);
      failed.catch(() => undefined);
      return { ...append, done: failed };
    };
  }
}
