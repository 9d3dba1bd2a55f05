import type { ActorStore, ActorStoreOptions } from '../persistence/store.ts';
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
  constructor(private readonly faults: StoreFaults, readonly disk?: MemoryDisk) {}

  /** A thread opens its store: on the in-memory disk, or undefined (real LMDB). */
  openMemory(options: ActorStoreOptions): ActorStore | undefined {
    return this.disk === undefined ? undefined : MemoryStore.open(this.disk, options);
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
      // In memory, a commit is a microtask: wait for each store's commits, with no turn of the real event loop.
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < MICROTASK_DEPTH; j++) await undefined;
        for (const store of [...this.open]) await store.settled();
        if ([...this.open].every((s) => s.openBatch === undefined)) break;
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
