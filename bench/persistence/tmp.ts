import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh data directory, and its removal. */
export function dataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
