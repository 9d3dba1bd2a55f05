import type { ActorStore } from '../persistence/store.ts';
import { InjectedFaultError } from './errors.ts';
import type { FaultPlan } from './faults.ts';

/**
 * `store-fail` faults: the k-th write the system asks of its LMDB store (a journal append or a snapshot) fails as a
 * failed commit would, and the runtime's handling of that failure is what the test exercises. The store is real;
 * only the one write is refused. Writes are counted over every incarnation of the system.
 */
export class StoreFaults {
  private writes = 0;
  private readonly failAt: Set<number>;

  constructor(plan: FaultPlan, private readonly report: (detail: string) => void) {
    this.failAt = new Set(plan.flatMap((f) => (f.kind === 'store-fail' ? [f.onWrite] : [])));
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
