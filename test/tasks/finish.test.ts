// A graph marked finished is never left unfinished by a crash: the registry's 'finished' mark makes a restart skip the
// graph, so the graph's own record must say finished first. The child (test/fixtures/tasks/crash-node.ts) runs the
// 40-task DAG to the end and is killed by its fault hook (SIGKILL) the moment the registry handles the mark; a second
// process then reads, without letting the graph move, what the record says: every task completed, each effect once.
// (A snapshot graph snapshots every 10 ms: marked finished without waiting for its last snapshot, its record lacked
// the last transitions and nothing resumed it: this test caught that ordering in about one run in three here, the
// window being the 10 ms cadence against the registry's commit. It is now stopped, its snapshot written, first.)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TASKS } from '../fixtures/tasks/crash-graph.ts';

const NODE = fileURLToPath(new URL('../fixtures/tasks/crash-node.ts', import.meta.url));

interface Inspect { op: 'inspect'; entry?: { finished: boolean }; progress?: { status: string; completed: number }; effects: Record<string, number> }

function child(dir: string, durability: string, mode: string, env: Record<string, string> = {}): { proc: ChildProcess; exit: Promise<string>; inspect: Promise<Inspect> } {
  const proc = fork(NODE, [dir, durability, mode], { execArgv: ['--import', 'tsx'], env: { ...process.env, TROUPE_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.resume();
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
  const exit = new Promise<string>((resolve) => proc.on('exit', (code, signal) => (clearTimeout(timer), resolve(`${signal ?? code}${stderr ? `\n${stderr}` : ''}`))));
  const inspect = new Promise<Inspect>((resolve, reject) => {
    proc.on('message', (m: { op: string }) => m.op === 'inspect' && resolve(m as Inspect));
    void exit.then((how) => reject(new Error(`child ended before inspecting: ${how}`)));
  });
  inspect.catch(() => undefined);
  return { proc, exit, inspect };
}

describe.each(['snapshot', 'journal'])('a finished graph across kill -9 at its finished mark (durability: %s)', (durability) => {
  it('the record says finished before the registry does: every task completed, each effect once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-finish-'));
    try {
      const run = child(dir, durability, 'run', { TROUPE_TASKS_KILL_ON_FINISHED: '1' });
      expect((await run.exit).split('\n')[0], 'killed by its fault hook as the registry handled the mark').toBe('SIGKILL');
      const look = child(dir, durability, 'inspect');
      try {
        const seen = await look.inspect;
        expect(seen.entry).toMatchObject({ finished: true });
        expect(seen.progress).toMatchObject({ status: 'completed', completed: TASKS });
        expect(Object.keys(seen.effects).length).toBe(TASKS);
        for (const [task, n] of Object.entries(seen.effects)) expect(n, task).toBe(1);
      } finally {
        look.proc.kill('SIGKILL');
        await look.exit;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);
});
