import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** A real child process running a command, with its output gathered and a way to wait for a line. */
export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.proc = spawn(command, args, { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.seen((this.stdout += d.toString())));
    this.proc.stderr!.on('data', (d: Buffer) => this.seen((this.stderr += d.toString())));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.seen('');
      resolve({ code, signal });
    }));
  }

  /** `troupe start <args>` from the source, as `npm start` runs it. */
  static troupe(args: string[], env: NodeJS.ProcessEnv = {}): Child {
    return new Child(process.execPath, ['--import', 'tsx', 'bin/troupe.ts', ...args], { env: { TROUPE_LOG_LEVEL: 'error', ...env } });
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits or `ms` pass first. */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    let gone = false;
    void this.exited.then(() => (gone = true));
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m) return m;
      if (gone) throw new Error(`exited before ${pattern}: ${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms: ${this.stdout}\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  private seen(_: string): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
