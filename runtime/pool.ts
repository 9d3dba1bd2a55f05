import type { MessagePort } from 'node:worker_threads';
import { systemClock } from './clock.ts';
import { CommitFence } from './commit-fence.ts';
import { Op } from './protocol.ts';
import type { WorkerBoot } from './thread.ts';
import type { Timebase } from './timebase.ts';
import type { StandIn } from './supervision.ts';
import { workerThreads, type ThreadHandle, type ThreadLauncher } from './threads.ts';

type Worker = ThreadHandle;

/** How the pool's threads are made and what they are told at boot. */
export interface PoolSetup {
  dataDir?: string;
  /** How workers read the runtime's clock (runtime/timebase.ts). */
  timebase?: Timebase;
  metrics?: boolean;
  /** Modules every worker attaches (runtime/extensions.ts). */
  extensions?: string[];
  /** Where threads come from (default: worker_threads; runtime/threads.ts). */
  threads?: ThreadLauncher;
}

/** A worker that said it is ready, and the stand-ins it could not create (their ids). */
export interface Booted {
  worker: Worker;
  failed: string[];
}

export interface PoolEvents {
  /** A batch from worker `node`. */
  message(node: number, ops: unknown[]): void;
  /** Worker `node` died (crash, process.exit in a handler, resource limits) or was terminated as stalled. */
  lost(node: number, why: string): void;
}

/**
 * The worker threads, numbered 1..n (0 is the thread that owns the pool). Every pair of workers shares a
 * MessageChannel, so actors on different workers talk directly. A lost worker is replaced under the same number,
 * with fresh channels to every live worker, so refs to its actors stay valid.
 */
export class WorkerPool {
  readonly workers: (Worker | undefined)[];
  /** Each worker's store commits in flight (runtime/commit-fence.ts), by node: a new fence per thread booted or assigned. */
  private readonly fences: (CommitFence | undefined)[];
  /** Workers whose thread has exited (also while stopping, when an exit is not a loss). */
  private readonly exits = new WeakSet<Worker>();
  private lastPong: number[];
  private pingTimer: unknown;
  private stopping = false;
  private spare: Promise<Worker | undefined> | undefined;

  private readonly dataDir: string | undefined;
  private readonly timebase: Timebase | undefined;
  private readonly metrics: boolean | undefined;
  private readonly extensions: string[];
  private readonly threads: ThreadLauncher;

  private constructor(readonly size: number, private readonly events: PoolEvents, setup: PoolSetup) {
    ({ dataDir: this.dataDir, timebase: this.timebase, metrics: this.metrics } = setup);
    this.extensions = setup.extensions ?? [];
    this.threads = setup.threads ?? workerThreads;
    this.workers = new Array(size + 1).fill(undefined);
    this.fences = new Array(size + 1).fill(undefined);
    this.lastPong = new Array(size + 1).fill(0);
  }

  static async start(size: number, events: PoolEvents, setup: PoolSetup = {}): Promise<WorkerPool> {
    const pool = new WorkerPool(size, events, setup);
    const meshes: (MessagePort | undefined)[][] = [];
    for (let i = 1; i <= size; i++) meshes[i] = new Array(size + 1).fill(undefined);
    for (let i = 1; i <= size; i++) {
      for (let j = i + 1; j <= size; j++) {
        const { port1, port2 } = pool.threads.channel();
        meshes[i][j] = port1;
        meshes[j][i] = port2;
      }
    }
    const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => pool.boot(i + 1, meshes[i + 1], [])));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await pool.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
    return pool;
  }

  live(node: number): boolean {
    return node === 0 || this.workers[node] !== undefined;
  }

  /**
   * Start worker `node` with the given mesh ports and the actors standing in there (see StandIn); resolves once it
   * has loaded, created them and said it is ready.
   */
  private boot(node: number, ports: (MessagePort | undefined)[], standIns: StandIn[]): Promise<Booted> {
    const boot = this.bootOf(node, ports, standIns);
    const worker = this.threads.start(boot, ports.filter((p): p is MessagePort => p !== undefined));
    return this.whenReady(node, worker);
  }

  /** Give a booted spare the identity of thread `node`. */
  private assign(spare: Worker, node: number, ports: (MessagePort | undefined)[], standIns: StandIn[]): Promise<Booted> {
    const ready = this.whenReady(node, spare);
    const boot = this.bootOf(node, ports, standIns);
    spare.postMessage({ assign: boot }, ports.filter((p): p is MessagePort => p !== undefined));
    return ready;
  }

  /** What thread `node` is told at boot, with a new commit fence for it. */
  private bootOf(node: number, ports: (MessagePort | undefined)[], standIns: StandIn[]): WorkerBoot {
    const fence = new CommitFence();
    this.fences[node] = fence;
    return { node, ports, dataDir: this.dataDir, timebase: this.timebase, standIns, metrics: this.metrics, extensions: this.extensions, commits: fence.buffer };
  }

  /** Worker `node`'s commit fence (runtime/commit-fence.ts). */
  fenceOf(node: number): CommitFence | undefined {
    return this.fences[node];
  }

  /** Whether worker `node`'s thread has exited (a thread that is gone can start no commit, nor finish one). */
  exited(node: number): boolean {
    const w = this.workers[node];
    return w === undefined || this.exits.has(w);
  }

  private whenReady(node: number, worker: Worker): Promise<Booted> {
    return new Promise((resolve, reject) => {
      worker.once('message', (m: unknown) => {
        if (this.stopping) {
          void worker.terminate();
          return reject(new Error('the pool is shutting down'));
        }
        this.workers[node] = worker;
        this.lastPong[node] = systemClock.now();
        worker.on('message', (ops: unknown[]) => this.events.message(node, ops));
        worker.on('error', () => {}); // the exit that follows is what counts
        worker.once('exit', () => {
          this.exits.add(worker);
          this.lost(node, worker, 'worker thread exited');
        });
        // The ready message: [Op.Control, { op: 'ready', failed }] (stand-ins that could not be created).
        const ready = (Array.isArray(m) ? m[1] : undefined) as { failed?: string[] } | undefined;
        resolve({ worker, failed: ready?.failed ?? [] });
      });
      worker.once('error', reject);
    });
  }

  /** Boot a spare worker (modules loaded, no identity yet), so a lost thread is replaced without a full boot. */
  prepareSpare(): void {
    if (this.spare !== undefined || this.stopping) return;
    const worker = this.threads.start({ spare: true }, []);
    const booted = new Promise<Worker | undefined>((resolve) => {
      const gone = () => resolve(undefined);
      worker.once('message', () => {
        // Remove only our own listeners: Worker keeps internal ones (removeAllListeners breaks its message port).
        worker.off('error', gone).off('exit', gone);
        resolve(worker);
      });
      worker.once('error', gone);
      worker.once('exit', gone);
    });
    this.spare = booted;
  }

  private lost(node: number, worker: Worker, why: string): void {
    if (this.stopping || this.workers[node] !== worker) return;
    this.workers[node] = undefined;
    this.events.lost(node, why);
  }

  /**
   * Start a new worker as `node`, with new channels to every live worker (handed to them with `tell`, which must
   * post the port to that worker with the port in the transfer list), and `standIns` created there before it takes
   * any message. Resolves with the new worker and the stand-ins it could not create.
   */
  async replace(node: number, tell: (to: Worker, other: number, port: MessagePort) => void, standIns: StandIn[] = []): Promise<Booted> {
    const ports: (MessagePort | undefined)[] = new Array(this.size + 1).fill(undefined);
    for (let other = 1; other <= this.size; other++) {
      const peer = this.workers[other];
      if (other === node || peer === undefined) continue;
      const { port1, port2 } = this.threads.channel();
      ports[other] = port1;
      tell(peer, node, port2);
    }
    const spare = this.spare === undefined ? undefined : await this.spare;
    this.spare = undefined;
    if (spare === undefined) return this.boot(node, ports, standIns);
    const booted = await this.assign(spare, node, ports, standIns);
    this.prepareSpare(); // for the next loss
    return booted;
  }

  /**
   * Ping every worker each `stallMs / 2`; one that has not answered for `stallMs` is terminated as stalled.
   * Real time, not the injected clock: a stall is a thread not running, which only real time can show (a manual
   * clock advanced past stallMs would otherwise declare every healthy worker stalled).
   */
  watchStalls(stallMs: number, ping: (node: number) => void): void {
    const tick = () => {
      const now = systemClock.now();
      for (let node = 1; node <= this.size; node++) {
        const w = this.workers[node];
        if (w === undefined) continue;
        if (now - this.lastPong[node] > stallMs) {
          this.workers[node] = undefined;
          void w.terminate();
          this.events.lost(node, `worker thread stalled (no answer for ${stallMs} ms)`);
        } else ping(node);
      }
      if (!this.stopping) this.pingTimer = systemClock.setTimer(tick, stallMs / 2);
    };
    this.pingTimer = systemClock.setTimer(tick, stallMs / 2);
  }

  pong(node: number): void {
    this.lastPong[node] = systemClock.now();
  }

  /** Post a control with transferable ports straight to a worker (outside the coalesced batches). */
  static postControl(worker: Worker, control: unknown, transfer: MessagePort[]): void {
    worker.postMessage([Op.Control, control], transfer);
  }

  /** From now on a worker that exits is expected (shutdown), not lost. */
  closing(): void {
    this.stopping = true;
    if (this.pingTimer !== undefined) systemClock.clearTimer(this.pingTimer);
    this.pingTimer = undefined;
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    if (this.pingTimer !== undefined) systemClock.clearTimer(this.pingTimer);
    const spare = this.spare;
    this.spare = undefined;
    await Promise.all([...this.workers.map((w) => w?.terminate()), spare?.then((w) => w?.terminate())]);
  }
}
