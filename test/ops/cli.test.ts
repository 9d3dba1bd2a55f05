import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Runtime } from '../../runtime/index.ts';
import { startOpsServer, type OpsServer } from '../../ops/server.ts';
import { CliExit, EXIT, registerAdminCommands } from '../../ops/cli.ts';
import { flaky } from '../fixtures/flaky.ts';
import { counter } from '../fixtures/counter.ts';

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Run the admin commands in this process, over HTTP to the real server. */
async function troupe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  let code = -1;
  const program = new Command('troupe');
  registerAdminCommands(program, { out: (t) => out.push(t), err: (t) => err.push(t), exit: (c) => void (code = c) });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await program.parseAsync(['node', 'troupe', ...args]);
  } catch (e) {
    if (!(e instanceof CliExit)) throw e;
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('troupe admin commands', () => {
  let rt: Runtime;
  let server: OpsServer;
  let dir: string;
  let tokenFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
    tokenFile = join(dir, 'token');
    rt = await Runtime.start({ workers: 2, spareWorker: false });
    await rt.supervise({
      id: 'lab', onExhausted: 'open-circuit', intensity: { maxRestarts: 0, withinMs: 60_000 }, circuit: { resetMs: 60_000, maxResetMs: 60_000, multiplier: 2 },
      children: [{ id: 'ada', actor: flaky, pin: 1 }],
    });
    await rt.spawn(counter, { id: 'c1', pin: 2, args: { start: 1 } });
    server = await startOpsServer(rt, { port: 0, tokenFile });
  });

  afterAll(async () => {
    await server?.close();
    await rt?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists actors and the tree as tables, or JSON with --json', async () => {
    const table = await troupe(['actors', '--url', server.url]);
    expect(table.code).toBe(EXIT.ok);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+KIND\s+THREAD\s+PHASE/);
    expect(table.out).toMatch(/^ada\s+flaky\s+1\s+running/m);
    expect(table.out).toMatch(/^c1\s+counter\s+2\s+running/m);
    const json = await troupe(['actors', '--json'], { TROUPE_URL: server.url });
    expect(JSON.parse(json.out).map((a: { id: string }) => a.id)).toEqual(['ada', 'c1']);
    const tree = await troupe(['tree', '--url', server.url]);
    expect(tree.out).toContain('lab [supervisor one-for-one, running]');
    expect(tree.out).toMatch(/^ {2}ada \(flaky\) running, restarts 0, mailbox 0, thread 1, circuit closed$/m);
  });

  it('sends and asks with the token from a file or the environment', async () => {
    const sent = await troupe(['send', 'c1', 'add', '41', '--url', server.url, '--token-file', tokenFile]);
    expect([sent.code, sent.err]).toEqual([EXIT.ok, '']);
    expect(sent.out).toContain('accepted');
    const asked = await troupe(['ask', 'c1', 'get', '--json'], { TROUPE_URL: server.url, TROUPE_TOKEN: server.token });
    expect(JSON.parse(asked.out)).toEqual({ reply: 42 });
    const inspect = await troupe(['inspect', 'c1', '--url', server.url]);
    expect(inspect.out).toContain('"count": 42');
    expect(inspect.out).toMatch(/^kind\s+counter$/m);
  });

  it('shows a crash and an open circuit', async () => {
    const crashed = await troupe(['ask', 'ada', 'crash', '"bad prompt"', '--url', server.url, '--token', server.token]);
    expect(crashed.code).toBe(EXIT.remote);
    expect(crashed.err).toContain('ERR_ACTOR_CRASHED');
    const circuits = await troupe(['circuits', '--url', server.url]);
    expect(circuits.out).toMatch(/^ada\s+lab\s+open\s+circuit-open\s+1/m);
    const dl = await troupe(['dead-letters', '--url', server.url]);
    expect(dl.out).toMatch(/^crashed\s+1$/m);
    const metrics = await troupe(['metrics', '--url', server.url]);
    expect(metrics.out).toContain('troupe_circuit_state{kind="flaky",state="open"} 1');
    expect(metrics.out).not.toContain('process_cpu');
    const mjson = JSON.parse((await troupe(['metrics', '--json', '--url', server.url])).out) as Array<{ name: string; labels: Record<string, string>; value: number }>;
    expect(mjson.find((s) => s.name === 'troupe_actors' && s.labels.status === 'circuit-open')?.value).toBe(1);
    const reset = await troupe(['reset-circuit', 'ada', '--url', server.url, '--token-file', tokenFile]);
    expect(reset.code).toBe(EXIT.ok);
  });

  it('exit codes: 1 remote error, 2 usage or token, 3 cannot connect', async () => {
    const unknown = await troupe(['inspect', 'nobody', '--url', server.url]);
    expect([unknown.code, unknown.err]).toEqual([EXIT.remote, "error: ERR_ACTOR_NOT_FOUND: no actor with id 'nobody'"]);
    const badType = await troupe(['send', 'c1', 'nope', '--url', server.url, '--token', server.token]);
    expect(badType.code).toBe(EXIT.remote);
    expect(badType.err).toContain('ERR_UNKNOWN_MESSAGE_TYPE');
    const badJson = await troupe(['send', 'c1', 'add', '{oops', '--url', server.url, '--token', server.token]);
    expect(badJson.code).toBe(EXIT.usage);
    expect(badJson.err).toContain('not valid JSON');
    const noToken = await troupe(['send', 'c1', 'add', '1', '--url', server.url]);
    expect(noToken.code).toBe(EXIT.usage);
    const wrongToken = await troupe(['send', 'c1', 'add', '1', '--url', server.url, '--token', 'wrong-wrong-wrong-wrong']);
    expect([wrongToken.code, wrongToken.err]).toEqual([EXIT.usage, expect.stringContaining('ERR_UNAUTHORIZED')]);
    const missingArg = await troupe(['inspect', '--url', server.url]);
    expect(missingArg.code).toBe(EXIT.usage);
    const unreachable = await troupe(['actors', '--url', 'http://127.0.0.1:9']);
    expect(unreachable.code).toBe(EXIT.connect);
    expect(unreachable.err).toContain('cannot reach');
    expect(await rt.ask((await rt.lookup('c1'))!, 'get')).toBe(42); // none of the refused sends got through
  });

  it('--help on every command (exit 0)', async () => {
    for (const cmd of ['actors', 'tree', 'inspect', 'send', 'ask', 'circuits', 'dead-letters', 'metrics', 'stop', 'restart', 'reset-circuit']) {
      const help = await troupe([cmd, '--help']);
      expect([cmd, help.code]).toEqual([cmd, EXIT.ok]);
      expect(help.out).toContain(`Usage: troupe ${cmd}`);
      expect(help.out).toContain('--json');
    }
  });

  it('runs as a process: exit code and output', async () => {
    const run = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'test/fixtures/ops-cli.ts', ...args], { env: { ...process.env, TROUPE_URL: server.url } }, (err, out) => {
        resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out });
      });
    });
    const ok = await run(['actors', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).length).toBe(2);
    expect((await run(['inspect'])).code).toBe(2);
    expect((await run(['inspect', 'nobody'])).code).toBe(1);
  });
});
