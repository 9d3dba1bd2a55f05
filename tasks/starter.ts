// Starting a graph's actor again from its record (a finished durable graph's actor was stopped, a new process, a lost
// worker thread), for the manager (tasks/manager.ts), and the watch on graphs on worker threads: a graph actor is not
// supervised, so it goes with its thread if that is lost.
import type { ActorRef, Runtime } from '../runtime/index.ts';
import { graphActorId } from './actor/graph-actor.ts';
import type { GraphEntry } from './actor/registry.ts';
import { definitionFor } from './submit.ts';

export class GraphStarter {
  /** Starts under way, by graph id, and the watch on each graph on a worker thread (its unwatch function). */
  private readonly spawning = new Map<string, Promise<ActorRef>>();
  private readonly watched = new Map<string, () => void>();
  private stopped = false;

  /** @param lost told when a watched graph was lost with its thread */
  constructor(private readonly runtime: Runtime, private readonly timeoutMs: number, private readonly lost: (graphId: string) => void) {}

  /** The graph's actor, started again from its record if it is not running (one start at a time per graph). */
  ref(graphId: string, entry: GraphEntry): Promise<ActorRef> {
    const pending = this.spawning.get(graphId);
    if (pending !== undefined) return pending;
    const started = this.start(graphId, entry).finally(() => this.spawning.delete(graphId));
    this.spawning.set(graphId, started);
    return started;
  }

  private async start(graphId: string, entry: GraphEntry): Promise<ActorRef> {
    const id = graphActorId(graphId);
    const until = Date.now() + this.timeoutMs;
    for (let waitMs = 10; ; waitMs = Math.min(500, 2 * waitMs)) {
      const running = await this.runtime.lookup(id);
      if (running !== undefined) return this.watch(graphId, running);
      try {
        // Same id: a durable graph resumes from its record (and its journal), and dispatches once told 'resume'.
        const ref = await this.runtime.spawn(definitionFor(entry), { id, ...(entry.pin !== undefined ? { pin: entry.pin } : {}) });
        this.runtime.tell(ref, 'resume', undefined);
        return this.watch(graphId, ref);
      } catch (err) {
        // Its thread is being replaced (lost): the spawn is tried again once it is back.
        const code = (err as { code?: unknown }).code;
        const lost = (code === 'ERR_INVALID_SPAWN_OPTION' || code === 'ERR_RUNTIME_STOPPED') && entry.pin !== undefined && entry.pin > 0 && entry.pin <= this.runtime.workerCount;
        if (!lost || this.runtime.lifecycle !== 'running' || this.stopped || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  /**
   * A graph on a worker thread goes with the thread if that is lost: then `lost` is told, and the manager starts it
   * again from its record on the replacement thread (ref), which dispatches nothing until its journal is replayed and
   * it is told 'resume'; whoever awaits its end keeps waiting for the new incarnation.
   */
  watch(graphId: string, ref: ActorRef): ActorRef {
    if (ref.node <= 0 || this.stopped) return ref;
    this.watched.get(graphId)?.();
    const unwatch = this.runtime.watch(ref, (notice) => {
      if (this.watched.get(graphId) !== unwatch) return;
      this.watched.delete(graphId);
      if (notice.reason === 'worker-lost' && !this.stopped) this.lost(graphId);
    });
    this.watched.set(graphId, unwatch);
    return ref;
  }

  /** No more restarts (the manager stops). */
  stop(): void {
    this.stopped = true;
    for (const unwatch of this.watched.values()) unwatch();
    this.watched.clear();
  }
}
