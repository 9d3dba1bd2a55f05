import type { KvEntry, KvWatchOptions } from '@nats-io/kv';
import { rootLogger } from '../runtime/logger.ts';
import { Backoff } from '../supervisors/policy/backoff.ts';

/** What a watch needs of a bucket (a KV, or a test's wrapper of one). */
export interface Watchable {
  watch(opts?: KvWatchOptions): Promise<AsyncIterable<KvEntry> & { stop(): void }>;
}

/** The delays between attempts to watch a bucket again: 100 ms doubling to 5 s, a new streak after 10 s of quiet. */
export function rewatchBackoff(random: () => number): Backoff {
  return new Backoff({ minMs: 100, maxMs: 5000, randomFactor: 0.2, resetAfterMs: 10_000 }, random);
}

export interface KvWatchHandle {
  /** Watches ended (by a throw or by the server) and opened again so far. */
  readonly rewatches: number;
  stop(): void;
}

export interface KvWatchConfig {
  /** What is watched, for the log line (e.g. 'actors'). */
  what: string;
  now: () => number;
  random?: () => number;
  /** Told of each watch that ended and of each entry its handler threw on (default: a warning in the log). */
  onError?: (err: unknown, context: { what: string; key?: string; retryInMs?: number }) => void;
}

/**
 * Follow every change of a KV bucket with `onEntry`, for as long as the handle is not stopped. A copy of a bucket
 * (the actor registry, the capability table, the node list) kept by a watch goes stale for good when the watch loop
 * ends, so: an entry whose handler throws is logged and skipped (the next ones still come), and a watch that ends
 * or throws (its consumer lost, the server gone...) is logged and opened again after a backoff
 * (`rewatchBackoff`), resuming after the last revision seen, so nothing changed in between is missed (with history
 * 1 a key's last write, or its delete marker, is still in the stream). Resolves once the first watch is open.
 */
export async function watchKv(kv: Watchable, onEntry: (e: KvEntry) => void, config: KvWatchConfig): Promise<KvWatchHandle> {
  const watcher = new KvWatcher(kv, onEntry, config);
  await watcher.open();
  return watcher;
}

class KvWatcher implements KvWatchHandle {
  rewatches = 0;
  private stopped = false;
  private lastRevision = 0;
  private iter: { stop(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly kv: Watchable, private readonly onEntry: (e: KvEntry) => void, private readonly config: KvWatchConfig) {
    this.backoff = rewatchBackoff(config.random ?? Math.random);
  }

  async open(): Promise<void> {
    const iter = await this.kv.watch(this.lastRevision > 0 ? { resumeFromRevision: this.lastRevision + 1 } : undefined);
    if (this.stopped) return iter.stop();
    this.iter = iter;
    void this.follow(iter);
  }

  private async follow(iter: AsyncIterable<KvEntry>): Promise<void> {
    let failure: unknown = new Error(`the watch of ${this.config.what} ended`);
    try {
      for await (const e of iter) {
        if (this.stopped) return;
        if (e.revision > this.lastRevision) this.lastRevision = e.revision;
        try {
          this.onEntry(e);
        } catch (err) {
          this.report(err, { what: this.config.what, key: e.key });
        }
      }
    } catch (err) {
      failure = err;
    }
    if (!this.stopped) this.again(failure);
  }

  private again(err: unknown): void {
    const retryInMs = Math.round(this.backoff.next(this.config.now()));
    this.report(err, { what: this.config.what, retryInMs });
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.rewatches++;
      this.open().catch((e: unknown) => this.again(e));
    }, retryInMs);
    this.timer.unref();
  }

  private report(err: unknown, context: { what: string; key?: string; retryInMs?: number }): void {
    if (this.config.onError !== undefined) return this.config.onError(err, context);
    rootLogger().warn({ err, ...context }, context.key !== undefined ? 'a KV watch entry could not be applied' : 'a KV watch ended: watching again');
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.iter?.stop();
  }
}
