import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the testkit example', () => {
  it('examples/fuzz-demo.ts refuses the demo researcher\'s real timer, fuzzes the team, replays a seed', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/fuzz-demo.ts'], { cwd: root, timeout: 120_000, env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' } });
    expect(stdout).toMatch(/^demo researcher: ERR_SIM_NONDETERMINISM: handler 'research' of actor 'ada' \(kind researcher\) used setTimeout\(\) inside a simulated handler\n/);
    expect(stdout).toMatch(/fuzzed 50 simulated runs of the demo team: the property held\n/);
    expect(stdout).toMatch(/handle\s+grace\s+research "supervision trees" -> injected crash on message #1\n.*crash\s+grace\s+on 'research'.*-> restart\n/);
    expect(stdout).toMatch(/replayed seed 7 twice: identical trace hashes\n$/);
  });

  it('every code block of docs/testkit.md that names an example file is that file, verbatim', () => {
    const doc = readFileSync(join(root, 'docs/testkit.md'), 'utf8');
    const blocks = [...doc.matchAll(/```ts\n\/\/ (examples\/[\w-]+\.ts)[^\n]*\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    for (const [, file, body] of blocks) {
      const source = readFileSync(join(root, file), 'utf8');
      expect(source.split('\n').slice(1).join('\n').trim(), file).toBe(body.trim());
    }
  });
});
