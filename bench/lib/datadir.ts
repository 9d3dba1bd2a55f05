import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, empty data directory under the OS temp dir, and its removal (persistence benches: one per run). */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same, removed after `body` (also when it throws). */
export async function withDataDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const d = tempDataDir();
  try {
    return await body(d.dir);
  } finally {
    d.remove();
  }
}
