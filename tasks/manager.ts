// Task graphs from the outside: `const tasks = await TaskManager.start(runtime)`, `tasks.submit({ tasks })`.
// A submit is checked here first (the whole batch, capabilities included), then the graph gets an actor of its own
// (tasks/actor/graph-actor.ts) that holds it and dispatches its tasks. Graphs are listed in a durable registry, so
// a manager started on the same data directory after a crash resumes the graphs that had not finished.
import { nanoid } from 'nanoid';
import '../router/index.ts';
import type { ActorRef, Runtime } from '../runtime/index.ts';
import { reviveError } from '../runtime/errors.ts';
import { GraphNotFoundError, InvalidGraphOptionError, TaskNotFoundError, TaskPayloadNotStorableError, UnknownCapabilityError } from './errors.ts';
import { TaskGraph } from './graph/graph.ts';
import { storableProblem, validateBatch } from './graph/validate.ts';
import { graphOptions, type Durability, type SubmitSpec } from './options.ts';
import { graphActorId, snapshotTaskGraph, taskGraph, taskTopic, volatileTaskGraph, type CreatePayload, type SubmitReply } from './actor/graph-actor.ts';
import { packDefs } from './actor/record.ts';
import { registryActorId, taskRegistry, volatileTaskRegistry, type GraphEntry } from './actor/registry.ts';
import { sinks, taskListener } from './actor/listener.ts';
import type { AddResult, CriticalPath, DeadlockResolution, GraphSummary, Progress, TaskDef, TaskEdge, TaskEvent, TaskOutcome, TaskSpec } from './types.ts';

export type { Durability, SubmitSpec } from './options.ts';

export interface TaskManagerOptions {
  /** Graphs live in durable actors (default true: the runtime needs a dataDir). */
  durable?: boolean;
  /** Thread for graph actors (default: the runtime's placement). */
  pin?: number;
  /** Timeout of the manager's own asks to graph actors (default 60 s: a submit of 10,000 tasks is one ask). */
  askTimeoutMs?: number;
}

export class TaskManager {
  private readonly listenerId = `troupe.tasks.listener.${nanoid()}`;
  private readonly waiting = new Map<string, Array<(s: GraphSummary) => void>>();
  private readonly followers = new Map<string, Set<(e: TaskEvent) => void>>();
  private readonly durable: boolean;

  private constructor(readonly runtime: Runtime, private readonly options: TaskManagerOptions, private readonly registry: ActorRef, private listener: ActorRef) {
    this.durable = options.durable ?? true;
  }

  /** Start (or join) the task service of `runtime`; resumes every graph the registry lists as unfinished. */
  static async start(runtime: Runtime, options: TaskManagerOptions = {}): Promise<TaskManager> {
    const durable = options.durable ?? true;
    const registry = (await runtime.lookup(registryActorId)) ?? (await runtime.spawn(durable ? taskRegistry : volatileTaskRegistry, { id: registryActorId }));
    const m = new TaskManager(runtime, options, registry, undefined as never);
    m.listener = await runtime.spawn(taskListener, { id: m.listenerId, pin: 0 });
    sinks.set(m.listenerId, { done: (s) => m.onDone(s), events: (e) => m.onEvents(e) });
    const graphs = (await runtime.ask(registry, 'list')) as Record<string, GraphEntry>;
    for (const [graphId, entry] of Object.entries(graphs)) {
      if (entry.finished) continue;
      const ref = await m.graphRef(graphId, entry);
      await runtime.ask(ref, 'resume', undefined, { timeoutMs: m.askTimeout });
      m.handle(graphId).done().catch(() => undefined); // marks it finished in the registry when it is
    }
    return m;
  }

  private get askTimeout(): number {
    return this.options.askTimeoutMs ?? 60_000;
  }

  /** Check the whole graph, give it an actor, hand it the tasks. Bad input: a named error, nothing submitted. */
  async submit(spec: SubmitSpec): Promise<GraphHandle> {
    const options = graphOptions(spec, this.durable);
    const graphId = spec.id ?? nanoid();
    // The whole batch, before anything exists; the graph's actor is handed the definitions made here. A cycle is
    // refused here too under 'reject' (the other policies resolve or keep cycles in the actor).
    // (Storable in LMDB: checked by packing the definitions as the record keeps them, once, below.)
    const defs = validateBatch(spec.tasks, () => false, false);
    if (options.deadlock === 'reject') new TaskGraph({ ...options, graphId }).addDefs(defs.map((d) => ({ ...d, dependsOn: [...d.dependsOn] })), 0);
    const create: CreatePayload = options.durable ? { packed: packedDefs(defs) } : { defs };
    await this.checkCapabilities(spec.tasks);
    const durability = spec.durability ?? 'journal';
    if (durability !== 'journal' && durability !== 'snapshot') throw new InvalidGraphOptionError("graph option durability must be 'journal' or 'snapshot'", { details: { option: 'durability' } });
    const entry: GraphEntry = { durable: options.durable, createdAt: Date.now(), finished: false, durability };
    if (this.options.pin !== undefined) entry.pin = this.options.pin;
    if (!(await this.runtime.ask(this.registry, 'register', { graphId, entry }))) {
      throw new InvalidGraphOptionError(`graph '${graphId}' exists already`, { details: { option: 'id' } });
    }
    let ref: ActorRef;
    try {
      ref = await this.runtime.spawn(definitionFor(entry), {
        id: graphActorId(graphId), args: { graphId, options, events: spec.events ?? true }, ...(entry.pin !== undefined ? { pin: entry.pin } : {}),
      });
    } catch (err) {
      this.runtime.tell(this.registry, 'forget', graphId);
      throw err;
    }
    const handle = this.handle(graphId, ref);
    unwrap(await this.runtime.ask(ref, 'create', create, { timeoutMs: this.askTimeout }) as SubmitReply);
    return handle;
  }

  /** A handle on a graph submitted earlier (also by a previous process). */
  async graph(graphId: string): Promise<GraphHandle> {
    const entry = ((await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>)[graphId];
    if (entry === undefined) throw new GraphNotFoundError(`no graph '${graphId}'`, { details: { graphId } });
    return this.handle(graphId, await this.graphRef(graphId, entry));
  }

  async graphs(): Promise<Record<string, GraphEntry>> {
    return (await this.runtime.ask(this.registry, 'list')) as Record<string, GraphEntry>;
  }

  /** Stop listening (graphs keep running in their actors). */
  async stop(): Promise<void> {
    sinks.delete(this.listenerId);
    await this.runtime.stop(this.listener);
  }

  private handle(graphId: string, ref: ActorRef = { id: graphActorId(graphId), kind: 'troupe.task-graph', node: -1 }): GraphHandle {
    return new GraphHandle(this, graphId, ref);
  }

  private async graphRef(graphId: string, entry: GraphEntry): Promise<ActorRef> {
    const id = graphActorId(graphId);
    const running = await this.runtime.lookup(id);
    if (running !== undefined) return running;
    // Same id: a durable graph resumes from its record (and its journal).
    return this.runtime.spawn(definitionFor(entry), { id, ...(entry.pin !== undefined ? { pin: entry.pin } : {}) });
  }

  /** Each capability and target once (a graph has many tasks and few of them), in task order for the error. */
  private async checkCapabilities(specs: readonly TaskSpec[]): Promise<void> {
    const seen = new Set<string>(), seenTargets = new Set<string>();
    for (const t of specs) {
      if (t.capability !== undefined && !seen.has(t.capability)) {
        if (this.runtime.capabilities(t.capability).length === 0) {
          throw new UnknownCapabilityError(`task '${t.id}': no live actor offers capability '${t.capability}'`, { details: { taskId: t.id, capability: t.capability } });
        }
        seen.add(t.capability);
      }
      if (t.target !== undefined && !seenTargets.has(t.target)) {
        if ((await this.runtime.lookup(t.target)) === undefined) {
          throw new UnknownCapabilityError(`task '${t.id}': target actor '${t.target}' is not running`, { details: { taskId: t.id, target: t.target } });
        }
        seenTargets.add(t.target);
      }
    }
  }

  /** @internal */
  async ask<R>(ref: ActorRef, type: string, payload?: unknown): Promise<R> {
    const live = ref.node >= 0 ? ref : await this.runtime.lookup(ref.id);
    if (live === undefined) throw new GraphNotFoundError(`graph actor '${ref.id}' is not running`);
    return (await this.runtime.ask(live, type, payload, { timeoutMs: this.askTimeout })) as R;
  }

  /** @internal */
  async checkAdd(specs: readonly TaskSpec[]): Promise<void> {
    await this.checkCapabilities(specs);
  }

  /** @internal */
  whenDone(graphId: string, ref: ActorRef): Promise<GraphSummary> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(graphId);
      if (list !== undefined) return list.push(resolve);
      this.waiting.set(graphId, [resolve]);
      this.ask(ref, 'await', this.listener).catch((err) => {
        this.waiting.delete(graphId);
        reject(err);
      });
    });
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

  private onDone(s: GraphSummary): void {
    const list = this.waiting.get(s.graphId);
    this.waiting.delete(s.graphId);
    for (const r of list ?? []) r(s);
    if (s.status !== 'stuck') this.runtime.tell(this.registry, 'finished', { graphId: s.graphId, finished: true });
  }

  private onEvents(events: TaskEvent[]): void {
    for (const e of events) for (const fn of this.followers.get(e.graphId) ?? []) fn(e);
  }
}

function definitionFor(entry: GraphEntry): typeof taskGraph {
  if (!entry.durable) return volatileTaskGraph;
  return entry.durability === 'snapshot' ? snapshotTaskGraph : taskGraph;
}

/** A durable graph's definitions packed as its record keeps them; a payload msgpack cannot encode is named. */
function packedDefs(defs: readonly TaskDef[]): Uint8Array[] {
  try {
    return packDefs(defs);
  } catch (err) {
    for (const d of defs) {
      const problem = storableProblem(d.payload, true);
      if (problem !== undefined) throw new TaskPayloadNotStorableError(`task '${d.id}': payload cannot be stored: ${problem}`, { details: { taskId: d.id } });
    }
    throw err;
  }
}

function unwrap(reply: SubmitReply): AddResult {
  if (!reply.ok) throw reviveError(reply.error);
  return { added: reply.added, resolutions: reply.resolutions };
}

/** One graph, seen from the outside. Every call is an ask to the graph's actor. */
export class GraphHandle {
  /** Subscribe an actor to this topic (ctx.subscribe) to receive 'taskEvents' (an array of TaskEvent). */
  readonly topic: string;

  constructor(private readonly manager: TaskManager, readonly id: string, private readonly ref: ActorRef) {
    this.topic = taskTopic(id);
  }

  progress(): Promise<Progress> {
    return this.manager.ask(this.ref, 'progress');
  }
  /** A task's status, attempts, and result (completed) or error and reason. */
  async result(taskId: string): Promise<TaskOutcome> {
    const o = await this.manager.ask<TaskOutcome | undefined>(this.ref, 'result', taskId);
    if (o === undefined) throw new TaskNotFoundError(`no task '${taskId}' in graph '${this.id}'`, { details: { taskId } });
    return o;
  }
  outcomes(): Promise<TaskOutcome[]> {
    return this.manager.ask(this.ref, 'outcomes');
  }
  /** Once nothing can move any more: every task ended (completed, failed, cancelled), or stuck. */
  done(): Promise<GraphSummary> {
    return this.manager.whenDone(this.id, this.ref);
  }
  /** Cancel one task (its dependents are skipped) or, without an id, the whole graph; running ones are told to stop. */
  async cancel(taskId?: string): Promise<void> {
    unwrap(await this.manager.ask<SubmitReply>(this.ref, 'cancel', taskId));
  }
  /** Add tasks, and edges between tasks already there, to the running graph: all or nothing. */
  async add(tasks: TaskSpec[], edges?: TaskEdge[]): Promise<AddResult> {
    await this.manager.checkAdd(tasks);
    return unwrap(await this.manager.ask<SubmitReply>(this.ref, 'submit', { tasks, edges }));
  }
  detectDeadlocks(): Promise<string[][]> {
    return this.manager.ask(this.ref, 'detectDeadlocks');
  }
  resolutions(): Promise<DeadlockResolution[]> {
    return this.manager.ask(this.ref, 'resolutions');
  }
  criticalPath(): Promise<CriticalPath> {
    return this.manager.ask(this.ref, 'criticalPath');
  }
  summary(): Promise<GraphSummary> {
    return this.manager.ask(this.ref, 'summary');
  }
  /** Follow this graph's transitions; resolves with the unsubscribe function. */
  on(listener: (e: TaskEvent) => void): Promise<() => Promise<void>> {
    return this.manager.follow(this.id, listener);
  }
}

const managers = new WeakMap<Runtime, Promise<TaskManager>>();

/** The task service of a runtime, started once (what `runtime.tasks` would hold). */
export function tasks(runtime: Runtime, options?: TaskManagerOptions): Promise<TaskManager> {
  let m = managers.get(runtime);
  if (m === undefined) managers.set(runtime, (m = TaskManager.start(runtime, options)));
  return m;
}
