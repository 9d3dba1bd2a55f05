import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Run an example as a user would (tsx, no build step); it must exit on its own, so shutdown left no handle. */
async function example(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000, env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' } });
  return stdout;
}

describe('examples run as documented', () => {
  it('quickstart (the README tour) prints what the README says', async () => {
    expect(await example('examples/quickstart.ts')).toBe('count = 21\ndoubled = 42\ncount = 42\n');
  });

  it('the demo system runs, survives a crash and shuts down cleanly', async () => {
    const out = await example('examples/demo.ts');
    expect(out).toMatch(/finding {2}ada: "actor model" has 2 words/);
    expect(out).toMatch(/crash {4}ERR_ACTOR_CRASHED/);
    expect(out).toMatch(/after {4}ada: "still alive" has 2 words/);
    expect(out).toMatch(/reporter heard 5 progress reports/);
    expect(out).toMatch(/troupe demo: shut down cleanly\n$/);
  });
});
