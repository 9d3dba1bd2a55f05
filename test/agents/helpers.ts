// A model server, a runtime on real worker threads with a real LMDB directory, and a quota governor, per test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../agents/model-server/index.ts';
import { startQuotaGovernor } from '../../agents/index.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-agents-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function setup(server: ModelServerOptions, o: { workers?: number; governor?: boolean; dataDir?: string } = {}): Promise<{ runtime: Runtime; model: ModelServer; dataDir: string }> {
  const model = await startModelServer(server);
  cleanups.push(() => model.close());
  const dataDir = o.dataDir ?? tempDir();
  // A thread that does not answer pings for stallMs is declared lost: 5 s (the default) is too little for a worker
  // loading the SDK under tsx on a 2-core host at load 20+; a real exit is still seen at once.
  const runtime = await Runtime.start({ workers: o.workers ?? 2, dataDir, stallMs: 30_000 });
  cleanups.push(() => runtime.shutdown());
  if (o.governor !== false) await startQuotaGovernor(runtime, { limits: { default: { requestsPerMinute: 600, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 1_000_000 } } });
  return { runtime, model, dataDir };
}
