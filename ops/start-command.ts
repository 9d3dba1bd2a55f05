import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { checkEnvironment, configKeys, logLevels, resolveConfig, type ServiceConfig } from './config.ts';
import { systemOf, type SystemDefinition } from './system.ts';
import { ConfigError, SystemModuleError } from './service-errors.ts';
import { runService, SERVICE_EXIT, SystemStartError, describe, type ServiceIo } from './service.ts';

/** `troupe start <module>`: the options map one to one onto ServiceConfig keys (ops/config.ts). */
export function registerStartCommand(program: Command, io: ServiceIo = { out: (l) => void process.stdout.write(`${l}\n`), err: (l) => void process.stderr.write(`${l}\n`) }): void {
  program.command('start')
    .description('run a system from a module that exports how it starts (see docs/package-and-service.md)')
    .argument('<module>', 'the system module: ./app.ts or ./app.js (export default defineSystem({ start(runtime) { ... } }))')
    .option('--config <file>', 'JSON config file (env TROUPE_CONFIG)')
    .option('--workers <n>', 'worker threads (env TROUPE_WORKERS; default: available parallelism)')
    .option('--data-dir <dir>', 'LMDB data directory for persistent actors (env TROUPE_DATA_DIR)')
    .option('--ops-host <host>', 'ops server address (env TROUPE_OPS_HOST; default 127.0.0.1)')
    .option('--ops-port <port>', 'ops server port, 0 for any free one (env TROUPE_OPS_PORT; default 9464)')
    .option('--no-ops', 'no ops server (env TROUPE_OPS=false)')
    .option('--token-file <file>', 'write the admin token here, mode 0600 (env TROUPE_TOKEN_FILE; the token itself: TROUPE_TOKEN)')
    .option('--log-level <level>', `log level: ${logLevels.join(', ')} (env TROUPE_LOG_LEVEL; default info)`)
    .option('--grace-ms <ms>', 'on SIGTERM/SIGINT, time for in-flight handlers to finish (env TROUPE_GRACE_MS; default 10000)')
    .option('--serve', 'keep running after the system\'s run() is done, until a signal (env TROUPE_SERVE)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      // Exit now: a handle the system left open (a timer, a socket) must not keep a drained service alive.
      process.exit(await start(file, cmd, io));
    });
}

/** Load, configure and run; every failure becomes an exit code and one line per problem (no stack trace). */
async function start(file: string, cmd: Command, io: ServiceIo): Promise<number> {
  try {
    const system = await loadSystem(file);
    const config = configure(cmd, system);
    await checkEnvironment(config);
    return await runService(system, config, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) io.err(`troupe: ConfigError (ERR_CONFIG): ${problem}`);
      return SERVICE_EXIT.badInput;
    }
    if (err instanceof SystemModuleError) {
      io.err(`troupe: SystemModuleError (ERR_SYSTEM_MODULE): ${err.message}`);
      return SERVICE_EXIT.badInput;
    }
    io.err(`troupe: ${err instanceof SystemStartError ? err.message : describe(err)}`);
    return SERVICE_EXIT.failed;
  }
}

function configure(cmd: Command, system: SystemDefinition): ServiceConfig {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const key of Object.keys(configKeys)) {
    if (cmd.getOptionValueSource(key) === 'cli') flags[key] = opts[key]; // defaults come from resolveConfig, not commander
  }
  const configFile = (opts.config as string | undefined) ?? process.env.TROUPE_CONFIG;
  return resolveConfig({ system: system.defaults, file: configFile === undefined ? undefined : readConfigFile(configFile), env: process.env, flags });
}

function readConfigFile(file: string): { name: string; values: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`config file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  try {
    return { name: file, values: JSON.parse(text) };
  } catch (err) {
    throw new ConfigError([`config file ${file}: not valid JSON (${(err as Error).message})`]);
  }
}

/** Import the system module (TypeScript through tsx, registered here unless the process already runs under it). */
export async function loadSystem(file: string): Promise<SystemDefinition> {
  const url = pathToFileURL(resolve(file)).href;
  if (/\.[cm]?tsx?$/.test(file) && !process.execArgv.some((a) => /(^|[\\/@=])tsx([\\/]|$)/.test(a))) {
    try {
      const { register } = (await import('tsx/esm/api')) as { register(): unknown };
      register();
    } catch {
      throw new SystemModuleError(`${file}: a TypeScript system module needs tsx (npm install tsx)`);
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e?.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(resolve(file)) ? 'no such file' : describe(err);
    throw new SystemModuleError(`cannot load ${file}: ${why}`, { cause: err });
  }
  return systemOf(mod, file);
}
