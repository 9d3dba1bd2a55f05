// Every ActorStore of a directory on one thread shares one lmdb-js handle (persistence/thread-envs.ts): a second
// handle opened while the first had a commit under way deadlocked the thread (the actors.test.ts hang).
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ActorStore } from '../../persistence/index.ts';
import { snap, tempDir } from './helpers.ts';

const run = promisify(execFile);

describe('stores of one directory on one thread', () => {
  it('a second one opens while the first has a commit under way: no deadlock, both see the commit', { timeout: 60_000 }, async () => {
    const script = path.join(import.meta.dirname, 'fixtures', 'second-handle.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, tempDir()], { timeout: 45_000 });
    expect(stdout).toBe('2');
  });

  it('share the handle: one closing leaves the other working; the last closes it, and the directory opens again', async () => {
    const dir = tempDir();
    const a = ActorStore.open(dir);
    const b = ActorStore.open(path.join(dir, '.')); // the same directory, spelled otherwise
    await a.writeSnapshot('x', snap(1, 'from a'));
    expect(b.readSnapshot('x')?.state).toBe('from a');
    await a.close();
    await b.writeSnapshot('x', snap(2, 'from b'));
    expect(b.readSnapshot('x')?.seq).toBe(2);
    await b.close();
    await expect(b.writeSnapshot('x', snap(3, 'closed'))).rejects.toThrow();
    const c = ActorStore.open(dir);
    expect(c.readSnapshot('x')?.state).toBe('from b');
    await c.close();
  });
});
