import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Run an example as a user would (tsx, no build step); it must exit on its own, so shutdown left no handle. */
async function example(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 85_000, env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' } });
  return stdout;
}

describe('examples run as documented', () => {
  it('quickstart (the README tour) prints what the README says', async () => {
    expect(await example('examples/quickstart.ts')).toBe('count = 21\ndoubled = 42\ncount = 42\n');
  });

  it('supervision: a crash restarts the agent, a second one opens its circuit', async () => {
    expect(await example('examples/supervision.ts')).toBe([
      "crash: ada on 'fail' -> restart",
      'ERR_ACTOR_CRASHED',
      'ada: "restarted, same ref" has 3 words',
      "crash: ada on 'fail' -> open-circuit",
      'ERR_ACTOR_CRASHED',
      'ERR_CIRCUIT_OPEN',
      'ada: circuit-open, 1 restart(s); alan: running, 0 restart(s)',
      '',
    ].join('\n'));
  });

  it('persistence: a durable account keeps its balance across runtime restarts and ignores retried deposits', async () => {
    expect(await example('examples/persistence.ts')).toBe('run 1: journaled deposit-1, balance = 10\nrun 2: journaled deposit-2, balance = 20\n');
  });

  it('routing: by capability, a sticky key, a route handed to another actor, discovery, a pool', async () => {
    expect(await example('examples/routing.ts')).toBe([
      'alan reviewed 2 line(s)',
      'pr-42 went to 1 reviewer',
      'lead had 4 diffs reviewed',
      'ada: healthy, alan: healthy',
      'pool night-shift: 2 members on threads 1 and 2',
      '',
    ].join('\n'));
  });

  it('an LLM agent: its tool loop on the SDK against the local Messages API server, a 429 waited out', async () => {
    expect(await example('examples/llm-agent.ts')).toBe('An actor has a mailbox (1 tool result used).\n2 turns, stop: end_turn, rate-limited 1 time(s)\n');
  });

  it('every code block in the README that names an example file is that file, verbatim', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n\/\/ (examples\/[\w-]+\.ts)[^\n]*\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const [, file, body] of blocks) {
      const source = readFileSync(join(root, file), 'utf8');
      expect(source.split('\n').slice(1).join('\n').trim(), file).toBe(body.trim());
    }
  });

  it('the demo system runs: a manager plans, agents carry it out through a rate limit and a crash, it shuts down cleanly', { timeout: 90_000 }, async () => {
    const out = await example('examples/demo.ts');
    expect(out).toMatch(/crash {4}researcher '\w+' crashed \(ERR_MODEL_UNAVAILABLE\): restart/);
    expect(out).toMatch(/progress task review \(review\) completed/);
    expect(out).toMatch(/result {3}4\/4 tasks done; /);
    expect(out).toMatch(/recovered 1 rate limit\(s\) waited out, 1 crash\(es\) restarted/);
    expect(out).toMatch(/troupe demo: shut down cleanly\n$/);
  });
});
