import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './ports.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface DemoService {
  /** The ops server's base URL, as the service printed it. */
  url: string;
  output(): string;
  /** SIGTERM (the service drains) and the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The demo system run as a service, as `npm start -- --serve` runs it (`troupe start examples/demo-system.ts`), on a
 * free ops port and a fresh data dir; resolves once its workload is done and it serves.
 */
export async function startDemoService(): Promise<DemoService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-ops-proof-demo-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/troupe.ts', 'start', 'examples/demo-system.ts', '--serve', '--ops-port', '0', '--data-dir', dataDir], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TROUPE_LOG_LEVEL: 'error' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve((code = c))));
  const stop = async () => {
    if (code === undefined) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const c = await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
    return c;
  };
  try {
    const url = await until('the demo service serving', () => {
      if (code !== undefined) throw new Error(`the demo exited (${code}): ${out}`);
      return out.includes('serving until') && /troupe: metrics\s+(\S+)\/metrics/.exec(out)?.[1];
    }, 45_000, 50);
    return { url, output: () => out, stop };
  } catch (e) {
    await stop();
    throw new Error(`${e}\n${out}`);
  }
}
