import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEnvironment, defaultConfig, resolveConfig, type ConfigSources } from '../../ops/config.ts';
import { ConfigError } from '../../ops/service-errors.ts';

function problems(sources: ConfigSources): string[] {
  try {
    resolveConfig(sources);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('ERR_CONFIG');
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('service configuration', () => {
  it('defaults, then system defaults, file, environment and flags, each overriding the one before', () => {
    expect(resolveConfig({})).toEqual(defaultConfig);
    const c = resolveConfig({
      system: { workers: 1, graceMs: 100, opsPort: 1000 },
      file: { name: 'troupe.json', values: { workers: 2, graceMs: 200, logLevel: 'warn', app: { team: 3 } } },
      env: { TROUPE_WORKERS: '3', TROUPE_OPS: 'false', TROUPE_UNRELATED: 'x' },
      flags: { workers: '4', serve: true },
    });
    expect(c).toMatchObject({ workers: 4, graceMs: 200, opsPort: 1000, logLevel: 'warn', ops: false, serve: true, app: { team: 3 } });
  });

  it('a relative data dir is made absolute; an empty variable counts as unset', () => {
    expect(resolveConfig({ flags: { dataDir: 'data' } }).dataDir).toBe(join(process.cwd(), 'data'));
    expect(resolveConfig({ env: { TROUPE_WORKERS: '' } }).workers).toBeUndefined();
  });

  it('every bad field is one line naming where it came from', () => {
    expect(problems({
      file: { name: 'troupe.json', values: { wrokers: 2, opsPort: '9464', serve: 'yes', colour: 1 } },
      env: { TROUPE_WORKERS: 'two', TROUPE_OPS_PORT: '70000', TROUPE_LOG_LEVEL: 'loud', TROUPE_SERVE: 'maybe' },
      flags: { graceMs: '-5', dataDir: '' },
    })).toEqual([
      "troupe.json: wrokers: unknown key (did you mean 'workers'?)",
      "troupe.json: opsPort: '9464' is not a whole number >= 0",
      "troupe.json: serve: 'yes' is not a boolean (true or false, unquoted)",
      'troupe.json: colour: unknown key',
      "TROUPE_WORKERS: 'two' is not a whole number >= 0",
      "TROUPE_OPS_PORT: '70000' is not a port (0-65535)",
      "TROUPE_LOG_LEVEL: 'loud' is not a log level (fatal, error, warn, info, debug, trace, silent)",
      "TROUPE_SERVE: 'maybe' is not a boolean (true or false)",
      "--grace-ms: '-5' is not a whole number >= 0",
      "--data-dir: '' is not a non-empty string",
    ]);
  });

  it('a config file that is not an object, and system defaults with a bad value', () => {
    expect(problems({ file: { name: 'c.json', values: [1] } })).toEqual(['c.json: must be a JSON object']);
    expect(problems({ system: { workers: 1.5 } })).toEqual(['system defaults: workers: 1.5 is not a whole number >= 0']);
  });
});

describe('checks against the machine', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('a port in use, a data dir that cannot be a directory and a token file in one: one line each', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'troupe-config-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'file'), '');
    const config = resolveConfig({ flags: { opsPort: String(port), dataDir: join(dir, 'file', 'data'), tokenFile: join(dir, 'nope', 'token') } });
    const err = await checkEnvironment(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      `dataDir ${join(dir, 'file', 'data')}: not a writable directory (ENOTDIR)`,
      `opsPort ${port} on 127.0.0.1: port in use`,
      `tokenFile ${join(dir, 'nope', 'token')}: its directory is not a writable directory (ENOENT)`,
    ]);
  });

  it('a free port and a new data dir pass (the dir is created, nothing is left in it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-config-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = resolveConfig({ flags: { opsPort: '0', dataDir: join(dir, 'a', 'b') } });
    await checkEnvironment(config);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual([]);
  });
});
