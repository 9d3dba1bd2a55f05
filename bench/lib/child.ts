import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RESULT_MARKER } from './measure.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Run one kernel in a fresh Node process (clean JIT and heap for every figure) with --expose-gc, so kernels can
 * collect between runs and measure heap after a full gc. Worker threads inherit these flags. Resolves with the
 * result the kernel emitted (see emit in measure.ts); the kernel's other output is passed through.
 */
export function runKernel(file: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
      cwd: repoRoot,
      env: { ...process.env, TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let result: unknown;
      for (const line of out.split('\n')) {
        if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length));
        else if (line.trim() !== '') process.stdout.write(`  [${file}] ${line}\n`);
      }
      if (result !== undefined && code === 0) return resolve(result);
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited with ${signal ?? code}`;
      reject(new Error(`${file} ${why}${result === undefined ? ' without a result' : ''}`));
    });
  });
}
