/**
 * How a worker thread imports a user's actor module. A thread of the compiled package runs plain JavaScript, and
 * a worker does not inherit the main thread's tsx (tsx registers its hooks on the main thread only, even under
 * `node --import tsx` or the tsx CLI), so a TypeScript actor module needs tsx registered on the worker itself:
 * at boot when the app runs under tsx (`whenAppRunsUnderTsx`), else on the first TypeScript module, once. Apps
 * with JavaScript actors never load it; TypeScript actors also load when the main thread got TypeScript support
 * some other way (vitest, a programmatic register()). Started from the source, the entry registers tsx first.
 */

const typeScriptFile = /\.[cm]?tsx?$/;
let registering: Promise<void> | undefined;

export async function importActorModule(url: string): Promise<Record<string, unknown>> {
  if (typeScriptFile.test(new URL(url).pathname)) await (registering ??= registerTsx());
  return import(url) as Promise<Record<string, unknown>>;
}

/** At a worker's boot: the app runs under tsx (the inherited Node options load it), so its modules may be TypeScript. */
export async function whenAppRunsUnderTsx(): Promise<void> {
  if (process.execArgv.some((a) => /(^|[\\/@=])tsx([\\/]|$)/.test(a))) await (registering ??= registerTsx());
}

async function registerTsx(): Promise<void> {
  if ((globalThis as { __troupeTsx?: boolean }).__troupeTsx === true) return; // the source entry did
  let api: { register(): unknown };
  try {
    api = (await import('tsx/esm/api')) as { register(): unknown };
  } catch (err) {
    // Node's own type stripping (22.6+ with the flag, default from 23.6) may still load it.
    if ((process as { features?: { typescript?: unknown } }).features?.typescript) return;
    registering = undefined;
    throw new Error('TypeScript actor modules need tsx on worker threads: install it (npm install tsx)', { cause: err });
  }
  api.register();
  (globalThis as { __troupeTsx?: boolean }).__troupeTsx = true;
}
