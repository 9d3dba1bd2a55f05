import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from './service-errors.ts';

/** How `troupe start` runs a system. Every key can come from a flag, a TROUPE_* variable or the config file. */
export interface ServiceConfig {
  /** Worker threads (undefined: available parallelism; 0: every actor on the main thread). */
  workers: number | undefined;
  /** LMDB data directory for persistent actors (created if missing; undefined: no persistence). */
  dataDir: string | undefined;
  /** Run the ops server (metrics, health, admin API, web view). */
  ops: boolean;
  /** Address and port of the ops server (port 0: any free port). */
  opsHost: string;
  opsPort: number;
  /** Bearer token for the admin API's mutating calls, or a file holding it (generated when neither is given). */
  token: string | undefined;
  tokenFile: string | undefined;
  /** pino level for every thread. */
  logLevel: LogLevel;
  /** On SIGTERM / SIGINT: how long in-flight handlers get to finish before the rest is killed. */
  graceMs: number;
  /** Keep running after the system's workload (`run`) is done, until a signal. */
  serve: boolean;
  /** The application's own settings (config file only), handed to the system as `context.config.app`. */
  app: Record<string, unknown>;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

type Kind = 'count' | 'port' | 'string' | 'boolean' | 'level' | 'object';

/** Every key: its type, its environment variable and its flag (the CLI declares the same flags). */
export const configKeys: Record<keyof ServiceConfig, { kind: Kind; env?: string; flag?: string }> = {
  workers: { kind: 'count', env: 'TROUPE_WORKERS', flag: '--workers' },
  dataDir: { kind: 'string', env: 'TROUPE_DATA_DIR', flag: '--data-dir' },
  ops: { kind: 'boolean', env: 'TROUPE_OPS', flag: '--no-ops' },
  opsHost: { kind: 'string', env: 'TROUPE_OPS_HOST', flag: '--ops-host' },
  opsPort: { kind: 'port', env: 'TROUPE_OPS_PORT', flag: '--ops-port' },
  // The admin CLI reads the same variables. No --token flag here: a command line is visible to every user (ps).
  token: { kind: 'string', env: 'TROUPE_TOKEN' },
  tokenFile: { kind: 'string', env: 'TROUPE_TOKEN_FILE', flag: '--token-file' },
  logLevel: { kind: 'level', env: 'TROUPE_LOG_LEVEL', flag: '--log-level' },
  graceMs: { kind: 'count', env: 'TROUPE_GRACE_MS', flag: '--grace-ms' },
  serve: { kind: 'boolean', env: 'TROUPE_SERVE', flag: '--serve' },
  app: { kind: 'object' },
};

export const defaultConfig: ServiceConfig = {
  workers: undefined, dataDir: undefined, ops: true, opsHost: '127.0.0.1', opsPort: 9464, token: undefined,
  tokenFile: undefined, logLevel: 'info', graceMs: 10_000, serve: false, app: {},
};

/** Where values come from, lowest precedence first after the defaults: system defaults, file, environment, flags. */
export interface ConfigSources {
  /** The system module's `defaults`. */
  system?: Record<string, unknown>;
  /** The parsed config file (JSON) and its name, for messages. */
  file?: { name: string; values: unknown };
  /** process.env: only the TROUPE_* variables of configKeys are read (others are left to whoever uses them). */
  env?: Record<string, string | undefined>;
  /** Flag values by key (strings as typed, booleans for switches). */
  flags?: Partial<Record<keyof ServiceConfig, unknown>>;
}

/** Merge and validate; throws ConfigError with one line per bad field. Pure: no file system, no network. */
export function resolveConfig(sources: ConfigSources): ServiceConfig {
  const config: ServiceConfig = { ...defaultConfig, app: {} };
  const problems: string[] = [];
  const set = (key: keyof ServiceConfig, raw: unknown, where: string, fromText: boolean) => {
    const parsed = parse(configKeys[key].kind, raw, fromText);
    if ('error' in parsed) problems.push(`${where}: ${parsed.error}`);
    else (config as unknown as Record<string, unknown>)[key] = parsed.value;
  };
  const fromObject = (values: unknown, label: (key: string) => string, what: string) => {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) return void problems.push(`${what}: must be a JSON object`);
    for (const [key, raw] of Object.entries(values)) {
      if (!(key in configKeys)) problems.push(`${label(key)}: unknown key${suggestion(key)}`);
      else if (raw !== undefined) set(key as keyof ServiceConfig, raw, label(key), false);
    }
  };
  if (sources.system) fromObject(sources.system, (k) => `system defaults: ${k}`, 'system defaults');
  if (sources.file) fromObject(sources.file.values, (k) => `${sources.file!.name}: ${k}`, sources.file.name);
  for (const [key, spec] of Object.entries(configKeys) as [keyof ServiceConfig, (typeof configKeys)[keyof ServiceConfig]][]) {
    const raw = spec.env === undefined ? undefined : sources.env?.[spec.env];
    if (raw !== undefined && raw !== '') set(key, raw, spec.env!, true);
  }
  for (const [key, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    const spec = configKeys[key as keyof ServiceConfig];
    if (spec === undefined) problems.push(`${key}: unknown option`);
    else set(key as keyof ServiceConfig, raw, spec.flag ?? key, typeof raw === 'string');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.dataDir !== undefined) config.dataDir = resolve(config.dataDir);
  return config;
}

type Parsed = { value: unknown } | { error: string };

function parse(kind: Kind, raw: unknown, fromText: boolean): Parsed {
  const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  switch (kind) {
    case 'count':
    case 'port': {
      const n = fromText && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return { error: `${shown} is not a whole number >= 0` };
      if (kind === 'port' && n > 65535) return { error: `${shown} is not a port (0-65535)` };
      return { value: n };
    }
    case 'string':
      return typeof raw === 'string' && raw.length > 0 ? { value: raw } : { error: `${shown} is not a non-empty string` };
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (fromText && typeof raw === 'string' && /^(true|1|yes)$/i.test(raw)) return { value: true };
      if (fromText && typeof raw === 'string' && /^(false|0|no)$/i.test(raw)) return { value: false };
      return { error: `${shown} is not a boolean (${fromText ? 'true or false' : 'true or false, unquoted'})` };
    }
    case 'level':
      return (logLevels as readonly unknown[]).includes(raw) ? { value: raw } : { error: `${shown} is not a log level (${logLevels.join(', ')})` };
    case 'object':
      return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { value: raw } : { error: `${shown} is not an object` };
  }
}

/** A near miss of a known key (one edit or a swapped pair away): `unknown key (did you mean 'workers'?)`. */
function suggestion(key: string): string {
  const near = Object.keys(configKeys).find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near === undefined ? '' : ` (did you mean '${near}'?)`;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/**
 * What can only be checked against the machine, before anything starts: the data dir can be created and written,
 * the ops port is free. Throws ConfigError with one line per problem.
 */
export async function checkEnvironment(config: ServiceConfig): Promise<void> {
  const problems: string[] = [];
  if (config.dataDir !== undefined) {
    const problem = writableDir(config.dataDir);
    if (problem !== undefined) problems.push(`dataDir ${config.dataDir}: ${problem}`);
  }
  if (config.ops && config.opsPort !== 0) {
    const problem = await portProblem(config.opsHost, config.opsPort);
    if (problem !== undefined) problems.push(`opsPort ${config.opsPort} on ${config.opsHost}: ${problem}`);
  }
  if (config.tokenFile !== undefined) {
    // The ops server writes the token there (mode 0600), through a temporary file in the same directory.
    const problem = writableDir(dirname(resolve(config.tokenFile)), false);
    if (problem !== undefined) problems.push(`tokenFile ${config.tokenFile}: its directory is ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function writableDir(dir: string, create = true): string | undefined {
  try {
    if (create) mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.troupe-write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `not writable (${code})` : `not a writable directory (${code ?? (err as Error).message})`;
  }
}

function portProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'EADDRINUSE' ? 'port in use' : `cannot listen (${err.code ?? err.message})`));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => done(undefined)));
  });
}
