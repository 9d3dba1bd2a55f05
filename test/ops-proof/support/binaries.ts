import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of an executable on PATH (or an absolute path given as is), if there is one. */
export function findBinary(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there: try the next directory
    }
  }
  return undefined;
}

/**
 * Why a suite that needs Debian's `pkg` cannot run, or undefined when every binary is there. The message says how
 * to get it (.ci/run installs it before `npm test`).
 */
export function skipReason(pkg: string, binaries: string[]): string | undefined {
  const missing = binaries.filter((b) => !findBinary(b));
  if (missing.length === 0) return undefined;
  return `SKIPPED: ${missing.join(', ')} not found on PATH: install Debian's ${pkg} (apt-get install -y ${pkg}; .ci/run does it)`;
}

/** skipReason, printed: a suite that skips never does so silently. */
export function missingBinaries(pkg: string, binaries: string[]): string | undefined {
  const why = skipReason(pkg, binaries);
  if (why) console.warn(why);
  return why;
}
