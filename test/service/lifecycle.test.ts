import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../index.ts';
import { account, clerk } from '../fixtures/service/ledger-actors.ts';
import { Child } from './helpers.ts';

const system = 'test/fixtures/service/ledger-system.ts';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'troupe-service-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** What the store holds after the service is gone: the account's balance and the clerk's job counts. */
async function stored(dataDir: string): Promise<{ balance: number; clerk: { started: number; finished: number } }> {
  const rt = await Runtime.start({ workers: 0, dataDir });
  try {
    const balance = await rt.ask(await rt.spawn(account, { id: 'acct' }), 'balance');
    const c = await rt.ask(await rt.spawn(clerk, { id: 'clerk' }), 'get');
    return { balance, clerk: { started: c.started, finished: c.finished } };
  } finally {
    await rt.shutdown();
  }
}

function lastAcked(out: string): number {
  return Math.max(0, ...[...out.matchAll(/ledger: acked (\d+)/g)].map((m) => Number(m[1])));
}

describe('troupe start: a system as a service, with real signals', () => {
  it('SIGTERM drains: the job in hand finishes within the grace period, every acked deposit is on disk, exit 0', async () => {
    const dataDir = tempDir();
    const child = Child.troupe(['start', system, '--data-dir', dataDir, '--ops-port', '0', '--grace-ms', '10000']);
    await child.waitFor(/ledger: acked 3\b/);
    child.kill('SIGTERM'); // the clerk's 1.5 s job is in hand
    const { code } = await child.exited;
    expect(child.stderr).toBe('');
    expect(code).toBe(0);
    expect(child.stdout).toMatch(/troupe: metrics {3}http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    expect(child.stdout).toContain('troupe: SIGTERM: draining (grace 10000 ms)\n');
    expect(child.stdout).toMatch(/troupe: ledger shut down cleanly\n$/);
    const after = await stored(dataDir);
    expect(after.clerk).toEqual({ started: 1, finished: 1 }); // killed instead of drained: finished would be 0
    expect(after.balance).toBeGreaterThanOrEqual(lastAcked(child.stdout));
  });

  it('SIGINT drains too', async () => {
    const dataDir = tempDir();
    const child = Child.troupe(['start', system, '--data-dir', dataDir, '--no-ops']);
    // An acked deposit went to the clerk's thread after its job: the job is in hand (at 'ready' it may still be on its
    // way, and a stop overtakes queued mail, so the job would never start).
    await child.waitFor(/ledger: acked 2\b/);
    child.kill('SIGINT');
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toMatch(/troupe: SIGINT: draining/);
    expect((await stored(dataDir)).clerk.finished).toBe(1);
  });

  it('a second signal exits at once (128 + signal), and the store opens with every acked deposit', async () => {
    const dataDir = tempDir();
    const config = join(tempDir(), 'troupe.json');
    writeFileSync(config, JSON.stringify({ dataDir, ops: false, graceMs: 60_000, app: { jobMs: 60_000 } }));
    const child = Child.troupe(['start', system, '--config', config]);
    await child.waitFor(/ledger: acked 3\b/);
    child.kill('SIGTERM');
    await child.waitFor(/draining \(grace 60000 ms\)/);
    child.kill('SIGTERM'); // the drain waits for a 60 s job: don't
    const { code } = await child.exited;
    expect(code).toBe(143);
    expect(child.stderr).toMatch(/^troupe: second SIGTERM: exiting without waiting for the drain\n$/);
    const after = await stored(dataDir);
    expect(after.balance).toBeGreaterThanOrEqual(lastAcked(child.stdout));
    expect(after.clerk.finished).toBe(0);
  });
});

describe('troupe start: bad input is one line and exit code 2, no stack trace', () => {
  let server: Server | undefined;
  afterEach(() => void server?.close());

  it('unknown key, wrong type, port in use, unwritable data dir, no system, no such module, unknown option', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const busy = (server.address() as { port: number }).port;
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ wrokers: 2 }));
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['start', system, '--config', join(dir, 'bad.json')], {}, /^troupe: ConfigError \(ERR_CONFIG\): .*bad\.json: wrokers: unknown key \(did you mean 'workers'\?\)$/],
      [['start', system], { TROUPE_WORKERS: 'two' }, /^troupe: ConfigError \(ERR_CONFIG\): TROUPE_WORKERS: 'two' is not a whole number >= 0$/],
      [['start', system, '--ops-port', String(busy)], {}, new RegExp(`^troupe: ConfigError \\(ERR_CONFIG\\): opsPort ${busy} on 127\\.0\\.0\\.1: port in use$`)],
      [['start', system, '--no-ops', '--data-dir', join(dir, 'file', 'data')], {}, /^troupe: ConfigError \(ERR_CONFIG\): dataDir .*file\/data: not a writable directory \(ENOTDIR\)$/],
      [['start', 'test/fixtures/service/no-system.ts'], {}, /^troupe: SystemModuleError \(ERR_SYSTEM_MODULE\): test\/fixtures\/service\/no-system\.ts exports no system: export default defineSystem/],
      [['start', 'test/fixtures/service/missing.ts'], {}, /^troupe: SystemModuleError \(ERR_SYSTEM_MODULE\): cannot load test\/fixtures\/service\/missing\.ts: no such file$/],
      [['start', system, '--wrokers', '2'], {}, /^error: unknown option '--wrokers'/],
    ];
    const children = cases.map(([args, env]) => Child.troupe(args, env));
    for (const [i, child] of children.entries()) {
      const { code } = await child.exited;
      const [, , expected] = cases[i];
      expect({ code, stderr: child.stderr }, cases[i][0].join(' ')).toMatchObject({ code: 2 });
      expect(child.stderr.split('\n')[0]).toMatch(expected);
      expect(child.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(child.stdout).toBe('');
    }
    // Config problems are all reported at once, one line each.
    const many = Child.troupe(['start', system, '--grace-ms', 'soon', '--log-level', 'loud'], { TROUPE_OPS_PORT: '99999' });
    expect((await many.exited).code).toBe(2);
    expect(many.stderr.trim().split('\n')).toEqual([
      "troupe: ConfigError (ERR_CONFIG): TROUPE_OPS_PORT: '99999' is not a port (0-65535)",
      "troupe: ConfigError (ERR_CONFIG): --log-level: 'loud' is not a log level (fatal, error, warn, info, debug, trace, silent)",
      "troupe: ConfigError (ERR_CONFIG): --grace-ms: 'soon' is not a whole number >= 0",
    ]);
  });
});
