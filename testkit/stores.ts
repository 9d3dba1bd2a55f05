import { ActorStore, type ActorStoreOptions } from '../persistence/store.ts';
import { MemoryStore, type MemoryDisk } from './memory-store.ts';
import { realSetImmediate } from './determinism.ts';
import type { StoreFaults } from './store-faults.ts';

/** Microtask hops a step's consequences get before the next step (see settle). */
const MICROTASK_DEPTH = 6;

/**
 * The LMDB stores the simulated system's threads have open (RuntimeHarness.storeOpened), so a step's durable writes
 * are on disk before the next step, store faults apply to each, and a simulated crash closes them all.
 */
export class SimStores {
  private readonly open = new Set<ActorStore>();

  /** `disk`: the simulation's in-memory store (durable: 'memory'); every thread's handle opens on it. */
  constructor(private readonly faults: StoreFaults, readonly disk?: MemoryDisk) {
    if (disk !== undefined) disk.commitOnFlush = true;
  }

  /**
   * A thread opens its store: on the in-memory disk; real LMDB in `dir` with the commit faults' seam when the plan has
   * commit faults; else undefined (the runtime opens LMDB itself).
   */
  openStore(dir: string, options: ActorStoreOptions): ActorStore | undefined {
    const commitFault = this.faults.commitFault;
    const opts = commitFault === undefined ? options : { ...options, commitFault };
    if (this.disk !== undefined) return MemoryStore.open(this.disk, opts);
    return commitFault === undefined ? undefined : ActorStore.open(dir, opts);
  }

  opened(store: ActorStore): void {
    this.faults.patch(store);
    const close = store.close.bind(store);
    store.close = () => {
      this.open.delete(store);
      return close();
    };
    this.open.add(store);
  }

  /**
   * The handle of a simulated thread that died: it stays open (in one process every handle shares one LMDB
   * environment, which closing it would close for the living threads too), but every write it is asked for from
   * now on is dropped, its promise never settling, as for a thread that is gone.
   */
  died(store: ActorStore): void {
    this.open.delete(store);
    const never = () => new Promise<never>(() => undefined);
    const s = store as unknown as Record<string, unknown>;
    for (const write of ['writeSnapshot', 'forgetMessage', 'deleteActor', 'recordDelivery', 'putPoison', 'dropPoison', 'trimHistory']) s[write] = never;
    s.appendJournal = () => ({ segment: 0, batch: 0, done: never() });
  }

  /** Everything one step set off: microtasks, and durable writes until they are on disk. */
  async settle(): Promise<void> {
    if (this.open.size === 0) {
      // The microtasks a step sets off (replies, async handlers resuming), up to a depth: cheaper than a turn of the
      // event loop per step, and as deterministic (nothing outside the simulation runs in between). Anything deeper
      // runs during the next steps, and all of it before time moves or the run ends (SimLoop.run).
      for (let i = 0; i < MICROTASK_DEPTH; i++) await undefined;
      return;
    }
    if (this.disk !== undefined) {
      // In memory, with no turn of the real event loop: once the step's microtasks are done, commit what each store
      // gathered (one batch per store, as LMDB's transaction would hold), wait for it, and again for what that set off.
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < MICROTASK_DEPTH; j++) await undefined;
        const open = [...this.open].filter((s) => s.openBatch !== undefined);
        if (open.length === 0) break;
        for (const store of open) (store as unknown as MemoryStore).flush();
        for (const store of open) await store.settled();
      }
      return;
    }
    await new Promise<void>((r) => realSetImmediate(r));
    for (let i = 0; i < 100; i++) {
      let quiet = true;
      for (const store of [...this.open]) {
        const commits = store.commitCount;
        await store.settled();
        await new Promise<void>((r) => realSetImmediate(r));
        if (store.commitCount !== commits || store.openBatch !== undefined) quiet = false;
      }
      if (quiet) break;
    }
  }

  /** The system died: close every store it had open (nothing more reaches the disk from it). */
  async closeAll(): Promise<void> {
    for (const store of [...this.open]) await store.close();
  }
}
