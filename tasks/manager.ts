// Task graphs from the outside: `const tasks = await TaskManager.start(runtime)`, `tasks.submit({ tasks })`.
// A submit is checked first (the whole batch, capabilities included), then the graph gets an actor of its own
// (tasks/actor/graph-actor.ts) that holds it and dispatches its tasks (tasks/submit.ts). Graphs are listed in a durable registry, so
// a manager started on the same data directory after a crash resumes the graphs that had not finished.
import { nanoid } from 'nanoid';
import '../router/index.ts';
import type { ActorRef, Runtime } from '../runtime/index.ts';
import { GraphNotFoundError } from './errors.ts';
import type { SubmitSpec } from './options.ts';
import { graphActorId, releaseGraph, snapshotTaskGraph, taskGraph, taskTopic, type SubmitReply } from './actor/graph-actor.ts';
import { registryActorId, taskRegistry, volatileTaskRegistry, type GraphEntry } from './actor/registry.ts';
import { sinks, taskListener } from './actor/listener.ts';
import { GraphHandle, type GraphHost } from './handle.ts';
import { checkCapabilities, submitGraph, type SubmitHost } from './submit.ts';
import { GraphStarter } from './starter.ts';
import type { GraphSummary, TaskEvent, TaskSpec } from './types.ts';

export type { Durability, SubmitSpec } from './options.ts';
export { GraphHandle } from './handle.ts';

export interface TaskManagerOptions {
  /** Graphs live in durable actors (default true: the runtime needs a dataDir). */
  durable?: boolean;
  /** Thread for graph actors (default: the runtime's placement). */
  pin?: number;
  /** Timeout of the manager's own asks to graph actors (default 60 s: a submit of 10,000 tasks is one ask). */
  askTimeoutMs?: number;
}

/** Errors of an ask to an actor that is not running (any more): a stopped graph is started again. */
const GONE = new Set(['ERR_ACTOR_NOT_FOUND', 'ERR_ACTOR_STOPPED', 'ERR_GRAPH_NOT_FOUND', 'ERR_WORKER_LOST']);

export class TaskManager implements GraphHost {
  private readonly listenerId = `troupe.tasks.listener.${nanoid()}`;
  private readonly waiting = new Map<string, { handle: GraphHandle; resolvers: Array<(s: GraphSummary) => void> }>();
  /** Graphs submitted here that will tell the listener 'graphDone' (their create said so): done() asks nothing. */
  private readonly awaited = new Set<string>();
  /** Graphs given tasks (add) since they last told 'graphDone', and adds under way (not stopped meanwhile: onDone). */
  private readonly added = new Set<string>();
  private readonly adding = new Map<string, number>();
  private readonly followers = new Map<string, Set<(e: TaskEvent) => void>>();
  /** Journal graphs' creates sent and not answered yet (createJournaled). */
  private readonly creating = new Map<string, (reply: SubmitReply) => void>();
  /** Graphs whose actor is being stopped (retire), and graphs being released (release). */
  private readonly retiring = new Map<string, Promise<void>>();
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly durable: boolean;
  /** Graphs' actors started again from their records, and watched on worker threads (tasks/starter.ts). */
  private readonly starter: GraphStarter;

  private constructor(readonly runtime: Runtime, private readonly options: TaskManagerOptions, private readonly registry: ActorRef, private listener: ActorRef) {
    this.durable = options.durable ?? true;
    this.starter = new GraphStarter(runtime, this.askTimeout, (graphId) => void this.restartLost(graphId));
  }

  /** Start (or join) the task service of `runtime`; resumes every graph the registry lists as unfinished. */
  static async start(runtime: Runtime, options: TaskManagerOptions = {}): Promise<TaskManager> {
    const durable = options.durable ?? true;
    // On the main thread, which is never lost (a registry on a lost worker thread took every graph's entry with it).
    // A graph pinned to a worker thread then journals its tasks in a commit of its own there.
    const registry = (await runtime.lookup(registryActorId)) ?? (await runtime.spawn(durable ? taskRegistry : volatileTaskRegistry, { id: registryActorId, pin: 0 }));
    const m = new TaskManager(runtime, options, registry, undefined as never);
    m.listener = await runtime.spawn(taskListener, { id: m.listenerId, pin: 0 });
    sinks.set(m.listenerId, { done: (s) => void m.onDone(s), events: (e) => m.onEvents(e), created: (id, reply) => m.creating.get(id)?.(reply) });
    const graphs = (await runtime.ask(registry, 'list')) as Record<string, GraphEntry>;
    for (const [graphId, entry] of Object.entries(graphs)) {
      if (entry.finished) continue;
      const handle = m.handle(graphId, await m.starter.ref(graphId, entry));
      // (Through the handle: a graph lost with its thread meanwhile is started again, and asked there.)
      if (!(await m.askGraph<boolean>(handle, 'resume'))) {
        // Registered, but its tasks never reached its record (a crash during its submit, which did not return).
        await runtime.stop(handle.ref);
        if (entry.durable) await runtime.deleteStoredActor(handle.ref.id); // (its stop wrote a record of nothing)
        runtime.tell(registry, 'forget', graphId);
        continue;
      }
      handle.done().catch(() => undefined); // marks it finished in the registry when it is
    }
    return m;
  }

  private get askTimeout(): number {
    return this.options.askTimeoutMs ?? 60_000;
  }

  /** Check the whole graph, give it an actor, hand it the tasks (tasks/submit.ts). */
  async submit(spec: SubmitSpec): Promise<GraphHandle> {
    const id = spec.id ?? nanoid();
    // Before the create: a graph can finish before submit returns. (An id awaited already is a graph's that exists.)
    const mine = !this.awaited.has(id);
    if (mine) this.awaited.add(id);
    try {
      const { graphId, ref } = await submitGraph(this.submitHost(), { ...spec, id });
      this.starter.watch(graphId, ref);
      return this.handle(graphId, ref);
    } catch (err) {
      if (mine) this.awaited.delete(id);
      throw err;
    }
  }

  private submitHost(): SubmitHost {
    const { runtime, registry, listener, durable, askTimeout, creating } = this;
    return { runtime, registry, listener, durable, pin: this.options.pin, askTimeout, creating };
  }

  /** A handle on a graph submitted earlier (also by a previous process). */
  async graph(graphId: string): Promise<GraphHandle> {
    const entry = ((await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>)[graphId];
    if (entry === undefined) throw new GraphNotFoundError(`no graph '${graphId}'`, { details: { graphId } });
    return this.handle(graphId, await this.starter.ref(graphId, entry));
  }

  async graphs(): Promise<Record<string, GraphEntry>> {
    return (await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>;
  }

  /** Stop listening (graphs keep running in their actors). */
  async stop(): Promise<void> {
    this.starter.stop();
    sinks.delete(this.listenerId);
    await this.runtime.stop(this.listener);
  }

  private handle(graphId: string, ref: ActorRef): GraphHandle {
    return new GraphHandle(this, graphId, ref);
  }

  /** A graph lost with its worker thread: started again from its record there (GraphStarter.watch). */
  private async restartLost(graphId: string): Promise<void> {
    try {
      const entry = ((await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>)[graphId];
      if (entry === undefined || !entry.durable || entry.finished) return;
      const ref = await this.starter.ref(graphId, entry);
      const w = this.waiting.get(graphId);
      if (w !== undefined) w.handle.ref = ref;
    } catch {
      // (The runtime is shutting down, or the thread was not replaced: a handle's next ask tries again.)
    }
  }

  /** @internal An ask to a graph's actor; one that was stopped (a finished durable graph) is started again. */
  async askGraph<R>(handle: GraphHandle, type: string, payload?: unknown): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      await this.retiring.get(handle.id);
      await this.releasing.get(handle.id)?.catch(() => undefined); // (then not listed any more: GraphNotFoundError)
      try {
        const live = handle.ref.node >= 0 ? handle.ref : await this.runtime.lookup(handle.ref.id);
        if (live === undefined) throw new GraphNotFoundError(`graph actor '${handle.ref.id}' is not running`);
        return (await this.runtime.ask(live, type, payload, { timeoutMs: this.askTimeout })) as R;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= 3 || typeof code !== 'string' || !(GONE.has(code) || (attempt > 1 && code === 'ERR_DUPLICATE_ACTOR_ID'))) throw err;
        const entry = ((await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>)[handle.id];
        if (entry === undefined) throw new GraphNotFoundError(`no graph '${handle.id}'`, { details: { graphId: handle.id } });
        if (!entry.durable) throw err;
        handle.ref = await this.starter.ref(handle.id, entry).catch(() => ({ ...handle.ref, node: -1 }));
      }
    }
  }

  /**
   * @internal The graph's actor stopped, a durable graph's record deleted (snapshot, journal: what the store keeps of
   * its actor), then the registry's entry forgotten. A crash in between leaves an entry whose graph has no tasks,
   * which the next start forgets.
   */
  release(handle: GraphHandle): Promise<void> {
    const id = handle.id;
    const pending = this.releasing.get(id);
    if (pending !== undefined) return pending;
    this.awaited.delete(id); // (a done() from now on asks, and finds no graph)
    const done = (async () => {
      const actorId = graphActorId(id);
      const entry = ((await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>)[id];
      // (An ask let through before the release began may start the graph again as it stops: stopped again.)
      for (let attempt = 1; ; attempt++) {
        const ref = await this.runtime.lookup(actorId);
        if (ref !== undefined) await this.retire(ref);
        if (entry?.durable !== true) break;
        try {
          await this.runtime.deleteStoredActor(actorId);
          break;
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'ERR_ACTOR_RUNNING' || attempt >= 3) throw err;
        }
      }
      await this.runtime.ask(this.registry, 'forget', id);
    })();
    const settled = done.finally(() => this.releasing.delete(id));
    this.releasing.set(id, settled);
    return settled;
  }

  /**
   * Stop a graph's actor, which first lets go of what its thread keeps of it ('release'). Asks through a handle wait
   * for it (then start the graph again): sent meanwhile, one could reach the actor as it stops.
   */
  private retire(ref: ActorRef): Promise<void> {
    const graphId = ref.id.slice(graphActorId('').length);
    const done = (async () => {
      // On this thread, what it keeps here is let go of directly once it stopped (an ask costs a durable graph two
      // commits); elsewhere its thread does it, before the stop.
      if (ref.node !== 0) await this.runtime.ask(ref, 'release', undefined, { timeoutMs: this.askTimeout }).catch(() => undefined);
      await this.runtime.stop(ref).catch(() => undefined);
      if (ref.node === 0) releaseGraph(ref.id);
    })();
    const settled = done.finally(() => this.retiring.get(graphId) === settled && this.retiring.delete(graphId));
    this.retiring.set(graphId, settled);
    return settled;
  }

  /** @internal */
  async beforeAdd(handle: GraphHandle, specs: readonly TaskSpec[]): Promise<void> {
    await checkCapabilities(this.runtime, specs);
    this.added.add(handle.id); // (a 'graphDone' told before the tasks land is not the end any more: fresh)
    this.adding.set(handle.id, (this.adding.get(handle.id) ?? 0) + 1);
    try {
      // A finished graph is not resumed after a crash: it is not finished any more once it has new tasks.
      await this.runtime.ask(this.registry, 'finished', { graphId: handle.id, finished: false });
    } catch (err) {
      this.afterAdd(handle);
      throw err;
    }
  }

  /** @internal */
  afterAdd(handle: GraphHandle): void {
    const n = (this.adding.get(handle.id) ?? 1) - 1;
    if (n > 0) this.adding.set(handle.id, n);
    else this.adding.delete(handle.id);
  }

  /** @internal */
  whenDone(handle: GraphHandle): Promise<GraphSummary> {
    return new Promise((resolve, reject) => {
      const w = this.waiting.get(handle.id);
      if (w !== undefined) return w.resolvers.push(resolve);
      this.waiting.set(handle.id, { handle, resolvers: [resolve] });
      if (this.awaited.has(handle.id)) return;
      this.askGraph(handle, 'await', this.listener).catch((err) => {
        this.waiting.delete(handle.id);
        reject(err);
      });
    });
  }

  /**
   * Follow the transitions of the graph `graphId`, submitted or not yet: resolves once subscribed, with the function
   * that unsubscribes. Subscribed before `submit`, a follower hears the first tasks start (a handle's `on()`, made after
   * `submit` returns, may miss them).
   */
  on(graphId: string, listener: (e: TaskEvent) => void): Promise<() => Promise<void>> {
    return this.follow(graphId, listener);
  }

  /** @internal */
  async follow(graphId: string, fn: (e: TaskEvent) => void): Promise<() => Promise<void>> {
    let set = this.followers.get(graphId);
    if (set === undefined) {
      this.followers.set(graphId, (set = new Set()));
      await this.runtime.ask(this.listener, 'follow', taskTopic(graphId));
    }
    set.add(fn);
    return async () => {
      set.delete(fn);
      if (set.size === 0 && this.followers.get(graphId) === set) {
        this.followers.delete(graphId);
        await this.runtime.ask(this.listener, 'unfollow', taskTopic(graphId));
      }
    };
  }

  /**
   * A graph nothing can move any more. Finished (not stuck), it is marked so in the registry, and not resumed after
   * a crash: only once its outcome is on disk. A journal graph's is (it reports itself done once every outcome is
   * journaled and handled); a snapshot graph's last transitions are only in its next snapshot, so the graph is
   * stopped first (its last snapshot written), and `done()` resolves after that too.
   */
  private async onDone(told: GraphSummary): Promise<void> {
    this.awaited.delete(told.graphId); // (told once: a later done() asks)
    const s = await this.fresh(told);
    if (s === undefined) return;
    const w = this.waiting.get(s.graphId);
    this.waiting.delete(s.graphId);
    let ref: ActorRef | undefined;
    // (Tasks being added: not finished, and its actor not stopped under the add; the add's end is told in turn.)
    if (s.status !== 'stuck' && !this.adding.has(s.graphId)) {
      ref = w !== undefined && w.handle.ref.node >= 0 ? w.handle.ref : await this.runtime.lookup(graphActorId(s.graphId));
      if (ref !== undefined && ref.kind === snapshotTaskGraph.kind) await this.retire(ref);
      this.runtime.tell(this.registry, 'finished', { graphId: s.graphId, finished: true });
    }
    for (const r of w?.resolvers ?? []) r(s);
    // A finished journal graph's actor goes too (a long-running service would keep every graph it ever ran), after
    // done(): its outcomes are on disk already. A handle asking it later starts it again from its record.
    if (ref !== undefined && ref.kind === taskGraph.kind && !this.adding.has(s.graphId)) void this.retire(ref);
  }

  /**
   * The summary told, unless tasks were added since it may have been sent (its 'graphDone' on its way as they were
   * added): then the graph's own, undefined while it runs again (and whoever waits, waits on: 'await' told again).
   */
  private async fresh(s: GraphSummary): Promise<GraphSummary | undefined> {
    if (!this.added.delete(s.graphId)) return s;
    const w = this.waiting.get(s.graphId);
    const handle = w?.handle ?? this.handle(s.graphId, { id: graphActorId(s.graphId), kind: taskGraph.kind, node: -1 });
    try {
      const now = await this.askGraph<GraphSummary>(handle, 'summary');
      if (now.status !== 'running') return now;
      if (w !== undefined) await this.askGraph(handle, 'await', this.listener);
    } catch {
      // (Released meanwhile: nothing to tell.)
    }
    return undefined;
  }

  private onEvents(events: TaskEvent[]): void {
    for (const e of events) for (const fn of this.followers.get(e.graphId) ?? []) fn(e);
  }
}

const managers = new WeakMap<Runtime, Promise<TaskManager>>();

/** The task service of a runtime, started once (what `runtime.tasks` would hold). */
export function tasks(runtime: Runtime, options?: TaskManagerOptions): Promise<TaskManager> {
  let m = managers.get(runtime);
  if (m === undefined) managers.set(runtime, (m = TaskManager.start(runtime, options)));
  return m;
}
