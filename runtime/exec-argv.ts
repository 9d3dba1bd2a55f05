/**
 * Which of the process's Node options a worker thread gets. By default a Worker inherits them all, and some make
 * no sense in a thread or break it: `--input-type` (from `node --input-type=module -e ...`) fails the worker's
 * ESM entry with ERR_INPUT_TYPE_NOT_ALLOWED, `-e`/`-p` carry the main thread's code, `--inspect*` would open a
 * second debugger on the same port, `--test*` / `--watch*` / `--check` belong to the process's own run. Loaders
 * (`--import tsx`, `--loader`, `-r`), `--conditions` and the rest stay, so workers resolve and load modules as the
 * main thread does.
 */

/** Options dropped for workers; `value`: the option's value may follow as the next argument (`--input-type module`). */
const dropped: Record<string, { value: boolean }> = {
  '--input-type': { value: true },
  '-e': { value: true },
  '--eval': { value: true },
  '-p': { value: true },
  '--print': { value: true },
  '-i': { value: false },
  '--interactive': { value: false },
  '-c': { value: false },
  '--check': { value: false },
  '--inspect': { value: false },
  '--inspect-brk': { value: false },
  '--inspect-wait': { value: false },
  '--inspect-port': { value: true },
  '--debug-port': { value: true },
  '--inspect-publish-uid': { value: true },
  '--test': { value: false },
  '--test-only': { value: false },
  '--test-reporter': { value: true },
  '--test-reporter-destination': { value: true },
  '--test-name-pattern': { value: true },
  '--test-skip-pattern': { value: true },
  '--test-concurrency': { value: true },
  '--test-timeout': { value: true },
  '--test-shard': { value: true },
  '--watch': { value: false },
  '--watch-path': { value: true },
  '--watch-preserve-output': { value: false },
};

/**
 * The options for worker threads, or undefined when nothing needs dropping (the worker then inherits them as
 * Node does by default, which also tolerates the V8 and per-process options that an explicit list must not hold).
 */
export function workerExecArgv(execArgv: readonly string[]): string[] | undefined {
  const kept: string[] = [];
  let changed = false;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const drop = dropped[name];
    if (drop === undefined) {
      kept.push(arg);
      continue;
    }
    changed = true;
    if (drop.value && name === arg && i + 1 < execArgv.length && takesNext(name, execArgv[i + 1])) i++;
  }
  return changed ? kept : undefined;
}

/** Whether the argument after an option is that option's value (`-e CODE` always; `--inspect-port 9230`). */
function takesNext(name: string, next: string): boolean {
  if (name === '-e' || name === '--eval' || name === '-p' || name === '--print') return true;
  return !next.startsWith('-');
}

/**
 * An explicit list may still hold options a Worker refuses (V8 flags such as --max-old-space-size, per-process ones
 * such as --title: they apply to the whole process anyway). Node names them in the error's message; drop them.
 */
export function withoutRefused(execArgv: string[], err: unknown): string[] | undefined {
  if ((err as { code?: string } | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
  const listed = /flags: (.*)$/.exec((err as Error).message)?.[1];
  if (listed === undefined) return undefined;
  const refused = new Set(listed.split(', '));
  const kept = execArgv.filter((a) => !refused.has(a));
  return kept.length < execArgv.length ? kept : undefined;
}
