import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from './clock.ts';
import { timebaseReader } from './timebase.ts';
import { runThread, type WorkerBoot } from './thread.ts';
import { importActorModule, whenAppRunsUnderTsx } from './module-loader.ts';

export type { WorkerBoot } from './thread.ts';

(globalThis as { __troupeWorker?: boolean }).__troupeWorker = true;
await whenAppRunsUnderTsx();
const main = parentPort!;
/**
 * A spare is started ahead of need, with every module loaded, and told which thread it replaces only when one is
 * lost: a replacement is then ready in milliseconds instead of a full worker boot.
 */
async function awaitAssignment(): Promise<WorkerBoot> {
  const assigned = new Promise<WorkerBoot>((resolve) => main.once('message', (m: { assign: WorkerBoot }) => resolve(m.assign)));
  main.postMessage('spare-ready');
  return assigned;
}
const boot: WorkerBoot = (workerData as { spare?: boolean }).spare ? await awaitAssignment() : (workerData as WorkerBoot);
// The thread's life (runtime/thread.ts), on the system clock, reading the runtime's clock through the timebase.
await runThread(boot, main, { clock: systemClock, runtimeNow: timebaseReader(boot.timebase), importModule: importActorModule, random: Math.random });
