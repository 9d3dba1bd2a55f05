import { MessageChannel, Worker } from 'node:worker_threads';

const rawWorkerUrl = new URL('../raw-worker.mjs', import.meta.url);

/** A raw worker (bench/raw-worker.mjs) and the one reply the main thread is waiting for. */
export class RawWorker {
  readonly worker: Worker;
  private waiting: ((msg: { type: string }) => void) | undefined;

  private constructor() {
    this.worker = new Worker(rawWorkerUrl);
    this.worker.on('message', (msg) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(msg);
    });
  }

  static async start(): Promise<RawWorker> {
    const raw = new RawWorker();
    await raw.roundTrip(); // the worker is up and its handler installed
    return raw;
  }

  private next(): Promise<{ type: string }> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** n posts of one message each, then wait for the worker's 'done'. */
  async tells(n: number): Promise<void> {
    const done = this.next();
    this.worker.postMessage({ type: 'start', n });
    for (let i = 0; i < n; i++) this.worker.postMessage({ type: 'add', by: 1 });
    await done;
  }

  /** From now on the worker applies the handler of this nested state (bench/actors.ts nestedStates) to each add. */
  async shape(name: string): Promise<void> {
    const shaped = this.next();
    this.worker.postMessage({ type: 'shape', name });
    await shaped;
  }

  async roundTrip(i = 0): Promise<void> {
    const pong = this.next();
    this.worker.postMessage({ type: 'ping', i });
    await pong;
  }

  /** Connect this worker to `other` with a MessageChannel (worker-to-worker figure). */
  connect(other: RawWorker): void {
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ type: 'peer', port: port1 }, [port1]);
    other.worker.postMessage({ type: 'peer', port: port2 }, [port2]);
  }

  /** This worker sends n messages to its peer, one per post; resolves when the peer has counted them all. */
  async blast(n: number): Promise<void> {
    const done = this.next();
    this.worker.postMessage({ type: 'blast', n });
    await done;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
