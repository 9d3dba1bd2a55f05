import type { RuntimeOptions } from '../runtime/runtime.ts';
import type { RuntimeHarness } from '../runtime/extensions.ts';
import type { Deliveries } from './deliveries.ts';
import type { Instrumentation } from './instrument.ts';
import type { SimLoop } from './loop.ts';
import type { SeededRandom } from './random.ts';
import { SimThreads } from './sim-threads.ts';
import type { SimStores } from './stores.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** What one incarnation of a simulated system is started from. */
export interface SimulatedParts {
  clock: VirtualClock;
  loop: SimLoop;
  rng: SeededRandom;
  deliveries: Deliveries;
  instrument: Instrumentation;
  stores: SimStores;
  record: (what: string, actor: string, detail: string) => void;
  /** A function telling whether the thread `node` runs on now is still alive. */
  threadLiveness: (node: number) => () => boolean;
  /** Is incarnation `inc` of the system still the running one? */
  current: (inc: number) => boolean;
  dataDir: string | undefined;
  threads: number;
  /** A number never given before in this simulation (message id prefixes). */
  nextPrefix: () => number;
}

/**
 * The Runtime.start options of incarnation `inc` of a simulated system: the virtual clock, the seed's scheduling and
 * jitter, no real-time stall detection or spare, and the harness (runtime/extensions.ts): the simulated threads
 * (when `threads` > 0), the wrapped definitions by id, each store as it opens, and the routers' deliveries through
 * the simulation's channels.
 */
export function simulatedRuntime(p: SimulatedParts, inc: number): { options: RuntimeOptions; threads: SimThreads | undefined } {
  const choose = p.rng.fork(10 + inc);
  const jitter = p.rng.fork(100 + inc);
  const hooks: Required<Pick<RuntimeHarness, 'definition' | 'storeOpened' | 'services' | 'messageIdPrefix' | 'openStore'>> = {
    openStore: (dir, options) => p.stores.openStore(dir, options),
    definition: (_module, kind, id) => p.instrument.definition(kind, id),
    // Reproducible, and never repeated in the simulation's store: one per thread start, counted over incarnations.
    messageIdPrefix: (node) => `sim${inc}-${node}-${p.nextPrefix()}.`,
    storeOpened: (store) => p.stores.opened(store),
    services: (services) => p.deliveries.routed(services, p.threadLiveness(services.node)),
  };
  const threads = p.threads === 0 ? undefined : new SimThreads({
    clock: p.clock,
    loop: p.loop,
    random: p.rng.fork(1000 + inc),
    delay: (from, to) => p.deliveries.delay(`thread ${from}`, `thread ${to}`),
    harness: hooks,
    storeDied: (store) => p.stores.died(store),
    record: p.record,
    lost: (to, type) => p.deliveries.lostWithThread(to, type),
  });
  const options: RuntimeOptions = {
    workers: p.threads,
    clock: p.clock,
    defer: (fn) => {
      if (p.current(inc)) p.loop.defer(fn);
    },
    scheduling: { turnBudget: 1, slice: 1, pick: (n) => choose.int(n) },
    random: () => jitter.next(),
    stallMs: 0,
    spareWorker: false,
    metrics: false,
    dataDir: p.dataDir,
    harness: { ...hooks, threads },
  };
  return { options, threads };
}
