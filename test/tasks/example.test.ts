import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the task graph example', () => {
  it('runs as documented and exits on its own', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/tasks.ts'], { cwd: root, timeout: 60_000, env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' } });
    const [status, summary, path] = stdout.trim().split('\n');
    expect(status).toBe('completed 3/3');
    expect(summary).toBe('actors: 6 facts; lmdb: 4 facts');
    expect(['actors -> summary', 'lmdb -> summary']).toContain(path);
  });

  it('every code block of docs/tasks.md that names an example file is that file, verbatim', () => {
    const doc = readFileSync(join(root, 'docs/tasks.md'), 'utf8');
    const blocks = [...doc.matchAll(/```ts\n\/\/ (examples\/[\w-]+\.ts)[^\n]*\n([\s\S]*?)```/g)];
    expect(blocks.length).toBe(2);
    for (const [, file, body] of blocks) {
      const source = readFileSync(join(root, file), 'utf8');
      expect(source.split('\n').slice(1).join('\n').trim(), file).toBe(body.trim());
    }
  });
});
