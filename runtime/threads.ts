import { Worker, MessageChannel, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import type { WorkerBoot } from './thread.ts';
import { withoutRefused, workerExecArgv } from './exec-argv.ts';

/**
 * Compiled (the installed package, dist/runtime/pool.js): workers start from the compiled worker.js, which loads
 * tsx only for TypeScript actor modules (runtime/module-loader.ts). From source: an entry that registers tsx first.
 */
const workerEntry = import.meta.url.endsWith('.ts') ? new URL('./worker-entry.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

/** The process's Node options fit for a thread (runtime/exec-argv.ts); undefined: inherit them unchanged. */
let execArgv = workerExecArgv(process.execArgv);

function newWorker(options: WorkerOptions): Worker {
  for (;;) {
    try {
      return new Worker(workerEntry, execArgv === undefined ? options : { ...options, execArgv });
    } catch (err) {
      const fewer = execArgv === undefined ? undefined : withoutRefused(execArgv, err);
      if (fewer === undefined) throw err;
      execArgv = fewer; // learnt once for every later worker
    }
  }
}

/** What the pool uses of a thread: a Worker's messaging, events and termination. */
export type ThreadHandle = Pick<Worker, 'postMessage' | 'on' | 'once' | 'off' | 'terminate'>;

/**
 * Where the pool's threads come from. Production: worker_threads (`workerThreads`). A deterministic harness
 * (RuntimeHarness.threads) hosts them in-process instead, running the same thread code (runtime/thread.ts) over
 * ports whose deliveries it schedules; the pool, the registry and lost-thread recovery are the same either way.
 */
export interface ThreadLauncher {
  /** A connected pair of ports: one channel of the mesh between two threads. */
  channel(): { port1: MessagePort; port2: MessagePort };
  /** Start a thread as `data` says (a boot, or a spare awaiting its assignment); `transfer`: the ports it takes. */
  start(data: WorkerBoot | { spare: true }, transfer: MessagePort[]): ThreadHandle;
}

export const workerThreads: ThreadLauncher = {
  channel: () => new MessageChannel(),
  start: (data, transfer) => newWorker({ workerData: data, transferList: transfer }),
};
