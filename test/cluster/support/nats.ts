import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, missingBinaries } from '../../ops-proof/support/binaries.ts';
import { freePort } from '../../ops-proof/support/ports.ts';

/** Why the cluster suites skip (Debian's nats-server missing; .ci/run installs it), printed; undefined when present. */
export const noNats = missingBinaries('nats-server', ['nats-server']);

/**
 * A real nats-server with JetStream on a free loopback port, its store in a temp dir. `restart()` brings it back
 * on the same port with the same store (what the nodes reconnect to); `stop()` kills it and removes the dir.
 */
export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';
  private constructor(readonly port: number, private readonly dir: string, private readonly conf: string) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(options: { maxPayload?: number } = {}): Promise<NatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-nats-'));
    const port = await freePort();
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, [
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      options.maxPayload !== undefined ? `max_payload: ${options.maxPayload}` : '',
    ].join('\n'));
    const server = new NatsServer(port, dir, conf);
    await server.launch();
    return server;
  }

  private launch(): Promise<void> {
    const child = spawn(findBinary('nats-server')!, ['-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server not ready within 20 s:\n${this.log}`)), 20_000);
      const seen = (chunk: Buffer) => {
        this.log += chunk.toString();
        if (this.log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${this.log}`));
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    this.log = '';
    // The port may linger a moment after the kill: retry the launch until it binds.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.launch();
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 + attempt * 50));
      }
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
