import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { withoutRefused, workerExecArgv } from '../../runtime/exec-argv.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('Node options for worker threads', () => {
  it('nothing to drop: undefined, so workers inherit the options as Node does by default', () => {
    expect(workerExecArgv([])).toBeUndefined();
    expect(workerExecArgv(['--import', 'tsx', '--conditions=dev', '--max-old-space-size=200'])).toBeUndefined();
  });

  it('drops what breaks a thread, with its value, and keeps loaders and conditions', () => {
    expect(workerExecArgv(['--input-type=module', '--import', 'tsx', '-e', 'code'])).toEqual(['--import', 'tsx']);
    expect(workerExecArgv(['--input-type', 'module', '-C', 'dev', '--eval', '--not-an-option'])).toEqual(['-C', 'dev']);
    expect(workerExecArgv(['--inspect-brk', '--inspect-port', '9230', '--enable-source-maps', '-p', '1+1'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['--inspect=0', '--test', '--test-reporter', 'dot', '--watch', '-r', 'x.cjs'])).toEqual(['-r', 'x.cjs']);
  });

  it('options a Worker refuses in an explicit list are dropped from it, as Node names them', () => {
    const err = Object.assign(new Error('Initiated Worker with invalid execArgv flags: --max-old-space-size=200, --title=x'), { code: 'ERR_WORKER_INVALID_EXEC_ARGV' });
    expect(withoutRefused(['--max-old-space-size=200', '--import', 'tsx', '--title=x'], err)).toEqual(['--import', 'tsx']);
    expect(withoutRefused(['--import', 'tsx'], new Error('other'))).toBeUndefined();
  });

  // The bug this fixes: a runtime started from `node --input-type=module -e` failed with ERR_INPUT_TYPE_NOT_ALLOWED.
  it('a runtime started from node --input-type=module -e boots its workers (with a V8 flag that must not reach them)', async () => {
    const code = `
      import { Runtime } from './index.ts';
      import { counter } from './test/fixtures/counter.ts';
      const rt = await Runtime.start({ workers: 2 });
      const c = await rt.spawn(counter, { pin: 2, args: { start: 40 } });
      rt.tell(c, 'add', 2);
      console.log('thread', c.node, 'count', await rt.ask(c, 'get'));
      await rt.shutdown();`;
    const { stdout } = await run(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root, timeout: 60_000, env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' },
    });
    expect(stdout).toBe('thread 2 count 42\n');
  });
});
