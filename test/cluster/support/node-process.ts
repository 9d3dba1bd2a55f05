import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A Troupe node in a child process (support/node-main.ts), driven over IPC; killable and pausable for real. */
export class NodeProcess {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private constructor(readonly name: string, private readonly child: ChildProcess, readonly pid: number) {
    child.on('message', (m: { req?: number; ok?: boolean; value?: unknown; error?: string }) => {
      const w = m.req === undefined ? undefined : this.waiting.get(m.req);
      if (w === undefined) return;
      this.waiting.delete(m.req!);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(m.error));
    });
    child.once('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`node ${name} exited`));
      this.waiting.clear();
    });
  }

  static start(name: string, cluster: Record<string, unknown>, env: Record<string, string> = {}): Promise<NodeProcess> {
    const child = fork(fileURLToPath(new URL('./node-main.ts', import.meta.url)), [JSON.stringify({ ...cluster, node: name })], {
      execArgv: ['--import', 'tsx'], env: { ...process.env, TROUPE_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${name} not ready within 30 s`)), 30_000);
      child.once('message', (m: { ready?: boolean; pid?: number }) => {
        clearTimeout(timer);
        if (m.ready) resolve(new NodeProcess(name, child, m.pid!));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${name} exited (${code}) before it was ready`));
      });
    });
  }

  request<T>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    const req = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(req, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ req, op, ...fields });
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Shut down cleanly (leaves the cluster); killed if it does not within 10 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGCONT'); // a paused node first resumes
    const exited = new Promise((r) => this.child.once('exit', r));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await Promise.race([this.request('shutdown').catch(() => {}), exited]);
    await exited;
    clearTimeout(timer);
  }
}
