import { Runtime } from '../runtime/runtime.ts';
import { rootLogger } from '../runtime/logger.ts';
import type { ServiceConfig } from './config.ts';
import type { SystemContext, SystemDefinition } from './system.ts';
import { ConfigError } from './service-errors.ts';
import { startOpsServer, type OpsServer } from './server.ts';

/** Where the service writes its lines (the process's streams by default; tests read them from a child process). */
export interface ServiceIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: ServiceIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** Exit codes of `troupe start`. A second signal exits with 128 + the signal's number, as a shell reports it. */
export const SERVICE_EXIT = { ok: 0, failed: 1, badInput: 2, forcedSigint: 130, forcedSigterm: 143 } as const;

/** Extra time on top of graceMs for the last snapshots, LMDB and the ops server to close before giving up. */
const closeMarginMs = 5_000;

/**
 * Run a system as a service; resolves with the exit code once it has drained. Lifecycle: runtime, ops server,
 * `system.start`, then `system.run` (the service drains when it is done, unless `serve`) or nothing (until a
 * signal). The first SIGTERM / SIGINT drains: the context's signal aborts, `system.stop` runs, supervision trees
 * stop by their shutdown policies, the other actors finish the message in hand within graceMs, the last snapshots
 * are written and LMDB is closed (Runtime.shutdown), then the ops server closes. A second signal exits at once:
 * LMDB commits are atomic and nothing is acknowledged before its commit is on disk, so what was acknowledged stays
 * and what was not is simply not there (a durable message not yet handled is replayed at the next start).
 */
export async function runService(system: SystemDefinition, config: ServiceConfig, io: ServiceIo = processIo): Promise<number> {
  const name = system.name ?? 'system';
  process.env.TROUPE_LOG_LEVEL = config.logLevel; // every thread's root logger reads it (workers get a copy of env)
  const log = rootLogger().child({ component: 'service', system: name });
  const abort = new AbortController();
  let runtime: Runtime | undefined;
  let ops: OpsServer | undefined;
  let draining: Promise<number> | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const context: SystemContext = {
    config,
    signal: abort.signal,
    log,
    progress: (line) => io.out(`${name}: ${line}`),
    get opsUrl() {
      return ops?.url;
    },
  };

  let starting: Promise<unknown> = Promise.resolve();
  const drain = (code: number, why: string): Promise<number> => {
    draining ??= (async () => {
      io.out(`troupe: ${why}: draining (grace ${config.graceMs} ms)`);
      abort.abort(new Error(why));
      const closed = await withinMs(config.graceMs + closeMarginMs, async () => {
        await starting.catch(() => undefined); // a start in progress settles first
        if (runtime !== undefined && system.stop !== undefined) {
          await withinMs(config.graceMs, async () => system.stop!(runtime!, context)).catch((err: unknown) => {
            io.err(`troupe: ${name}: stop failed: ${describe(err)}`);
            code ||= SERVICE_EXIT.failed;
          });
        }
        await runtime?.shutdown({ graceMs: config.graceMs });
        await ops?.close();
      }).catch((err: unknown) => {
        io.err(`troupe: ${name}: shutdown failed: ${describe(err)}`);
        code = SERVICE_EXIT.failed;
        return true;
      });
      if (!closed) {
        io.err(`troupe: ${name} did not shut down within ${config.graceMs + closeMarginMs} ms: exiting anyway`);
        return SERVICE_EXIT.failed;
      }
      io.out(`troupe: ${name} shut down cleanly`);
      return code;
    })();
    void draining.then(finish);
    return draining;
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals === 1) return void drain(SERVICE_EXIT.ok, signal);
    // Second signal: out now. Nothing half-written is acknowledged (see above), so the store stays consistent.
    io.err(`troupe: second ${signal}: exiting without waiting for the drain`);
    process.exit(signal === 'SIGINT' ? SERVICE_EXIT.forcedSigint : SERVICE_EXIT.forcedSigterm);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const started = (async () => {
      runtime = await Runtime.start({ workers: config.workers, dataDir: config.dataDir });
      if (config.ops) {
        ops = await startOpsServer(runtime, { host: config.opsHost, port: config.opsPort, token: config.token, tokenFile: config.tokenFile })
          .catch((err: NodeJS.ErrnoException) => {
            if (err?.code === 'EADDRINUSE') throw new ConfigError([`opsPort ${config.opsPort} on ${config.opsHost}: port in use`]);
            throw err;
          });
        announceOps(ops, config, io);
      }
      if (!abort.signal.aborted) await system.start(runtime, context);
    })();
    starting = started;
    await started;
  } catch (err) {
    if (draining !== undefined) return finished.finally(() => removeSignals(onSignal));
    await withinMs(closeMarginMs, async () => {
      await runtime?.shutdown();
      await ops?.close();
    });
    removeSignals(onSignal);
    throw err instanceof ConfigError ? err : new SystemStartError(name, err);
  }

  if (draining === undefined) {
    const where = config.dataDir === undefined ? '' : `, data in ${config.dataDir}`;
    io.out(`troupe: ${name} started (${runtime!.workerCount} worker threads${where})`);
    if (system.run !== undefined) {
      void (async () => {
        try {
          await system.run!(runtime!, context);
        } catch (err) {
          if (draining === undefined) {
            io.err(`troupe: ${name}: run failed: ${describe(err)}`);
            return void drain(SERVICE_EXIT.failed, 'run failed');
          }
        }
        if (draining !== undefined) return;
        if (!config.serve) return void drain(SERVICE_EXIT.ok, 'run done');
        io.out('troupe: run done; serving until SIGTERM or SIGINT (--serve)');
      })();
    } else io.out('troupe: running until SIGTERM or SIGINT');
  }
  return finished.finally(() => removeSignals(onSignal));
}

/** The system's start failed (not bad input): exit code 1, its cause printed on one line. */
export class SystemStartError extends Error {
  constructor(readonly system: string, cause: unknown) {
    super(`${system} failed to start: ${describe(cause)}`, { cause });
    this.name = 'SystemStartError';
  }
}

function announceOps(ops: OpsServer, config: ServiceConfig, io: ServiceIo): void {
  io.out(`troupe: metrics   ${ops.url}/metrics`);
  io.out(`troupe: health    ${ops.url}/healthz ${ops.url}/readyz`);
  io.out(`troupe: web view  ${ops.url}/`);
  const token = config.token !== undefined ? 'token from TROUPE_TOKEN'
    : config.tokenFile !== undefined ? `token in ${config.tokenFile}` : 'token generated, not saved: give --token-file to use the admin CLI';
  io.out(`troupe: admin API ${ops.url}/api (${token})`);
}

function removeSignals(listener: (signal: NodeJS.Signals) => void): void {
  process.off('SIGTERM', listener);
  process.off('SIGINT', listener);
}

/** Run `fn`; resolves true when it settled within `ms` (its rejection is rethrown), false when it took longer. */
async function withinMs(ms: number, fn: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([fn().then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line: the error's name, code and message. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' ? ` (${code})` : ''}: ${err.message}`;
}
