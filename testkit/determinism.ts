import { NondeterminismError } from './errors.ts';

/** The real functions, captured before any simulation patches them (the simulation itself needs setImmediate). */
export const realSetImmediate = globalThis.setImmediate;
export const realSetTimeout = globalThis.setTimeout;
const originals = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
  fetch: globalThis.fetch,
  random: Math.random,
};

const ADVICE: Record<string, string> = {
  setTimeout: 'a real timer fires in real time, outside the virtual clock. Model the wait as a message to self, '
    + 'an ask timeout or a supervisor backoff (they run on the runtime\'s clock), or pass the simulation\'s clock (sim.clock) in the actor\'s args',
  setInterval: 'a real interval ticks in real time, outside the virtual clock. Drive the repetition with messages (a tick the test or a supervisor sends), '
    + 'or pass the simulation\'s clock (sim.clock) in the actor\'s args and set timers on it',
  setImmediate: 'setImmediate runs outside the simulated scheduler. Send a message to self instead (ctx.tell(ctx.self, ...))',
  fetch: 'real network I/O completes at a time the simulation does not choose. Put the call behind an actor the test replaces with a simulated one, '
    + 'or inject the client through the actor\'s args',
  'async-io': 'the handler\'s promise settled while the simulation was not running a step: it awaited real I/O or a real timer. '
    + 'Await only messages (ctx.ask) and values the simulation controls, or inject the I/O through the actor\'s args',
};

/** The error telling the author what escaped the simulation, where, and what to change. */
export function nondeterminism(api: string, where: string): NondeterminismError {
  return new NondeterminismError(`${where} used ${api === 'async-io' ? 'real asynchronous I/O' : `${api}()`} inside a simulated handler: ${ADVICE[api]}.`, {
    details: { api, where },
  });
}

/**
 * While a simulation runs, real timers and fetch called from a handler or init (synchronously) are traps that report
 * where they were called and throw, and Math.random called there draws from the run's seed (so user code that rolls
 * dice replays too). A handler that awaits real I/O is caught differently: its promise settles outside any step, or
 * is still pending when the simulation goes idle (testkit/instrument.ts). Everything is restored when the run ends.
 */
export class DeterminismGuard {
  private installed = false;

  constructor(
    private readonly random: () => number,
    private readonly where: () => string | undefined,
    private readonly report: (err: NondeterminismError) => void,
  ) {}

  install(): void {
    if (this.installed) return;
    this.installed = true;
    // Only user code running synchronously inside a handler or init is trapped: the runtime and lmdb-js schedule
    // their own real callbacks (I/O completions) between steps, and the simulation waits for those itself.
    const trap = (api: string, original: unknown) => (...args: unknown[]): unknown => {
      const where = this.where();
      if (where === undefined) return (original as (...a: unknown[]) => unknown)(...args);
      const err = nondeterminism(api, where);
      this.report(err);
      throw err;
    };
    const g = globalThis as Record<string, unknown>;
    g.setTimeout = trap('setTimeout', originals.setTimeout);
    g.setInterval = trap('setInterval', originals.setInterval);
    g.setImmediate = trap('setImmediate', originals.setImmediate);
    if (originals.fetch !== undefined) g.fetch = trap('fetch', originals.fetch);
    Math.random = () => (this.where() === undefined ? originals.random() : this.random());
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    const g = globalThis as Record<string, unknown>;
    g.setTimeout = originals.setTimeout;
    g.setInterval = originals.setInterval;
    g.setImmediate = originals.setImmediate;
    if (originals.fetch !== undefined) g.fetch = originals.fetch;
    Math.random = originals.random;
  }
}
