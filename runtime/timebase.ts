import { systemClock, type Clock } from './clock.ts';

/**
 * The runtime's clock (the supervisors' clock, on the main thread) as a worker thread reads it. A worker that says
 * when an open circuit will be tried again (CircuitOpenError.details.retryInMs) counts in that clock, so its answer
 * agrees with the supervisor's (ChildInfo.circuit.retryAt), whatever clock the runtime was given.
 * - The system clock: every thread's performance.now() is the same clock from its own origin; a worker converts
 *   with the main thread's timeOrigin.
 * - An injected clock (a test's ManualClock) cannot be read from another thread: the main thread publishes every
 *   reading it makes into shared memory, and workers read the latest. That is the runtime's time as of the main
 *   thread's last look at its clock (each ask or send made there, each supervision decision, each timer it fires).
 */
export type Timebase = { origin: number } | { shared: SharedArrayBuffer };

/** The main thread's side: the clock to use there (publishing its readings when needed) and what workers get. */
export function mainTimebase(clock: Clock, workers: number): { clock: Clock; timebase: Timebase } {
  if (clock === systemClock || workers === 0) return { clock, timebase: { origin: performance.timeOrigin } };
  const shared = new SharedArrayBuffer(8);
  const micros = new BigInt64Array(shared);
  const read = (): number => {
    const now = clock.now();
    // Microseconds in one 64-bit integer: published and read atomically (a float in shared memory may tear).
    if (Number.isFinite(now)) Atomics.store(micros, 0, BigInt(Math.round(now * 1000)));
    return now;
  };
  read();
  const published: Clock = {
    now: read,
    setTimer: (fn, ms) => clock.setTimer(() => {
      read();
      fn();
    }, ms),
    clearTimer: (handle) => clock.clearTimer(handle),
  };
  return { clock: published, timebase: { shared } };
}

/** A worker's side: the runtime's current time, read on this thread. */
export function timebaseReader(timebase: Timebase | undefined): (() => number) | undefined {
  if (timebase === undefined) return undefined;
  if ('shared' in timebase) {
    const micros = new BigInt64Array(timebase.shared);
    return () => Number(Atomics.load(micros, 0)) / 1000;
  }
  const offset = performance.timeOrigin - timebase.origin;
  return () => performance.now() + offset;
}
