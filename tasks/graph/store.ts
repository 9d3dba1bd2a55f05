// The state of a task graph and the transitions every operation shares: statuses and their counts, the ready
// heaps, dirty marks and events, failure propagation, and the queries (progress, stuck, deadlocks). The operations
// themselves (adding tasks, dispatching, outcomes) are in graph.ts, on top of this.
import { TaskNotFoundError } from '../errors.ts';
import { TERMINAL, type DeadlockResolution, type GraphOptions, type GraphStatus, type Progress, type StuckReport, type TaskDef, type TaskEvent, type TaskOutcome, type TaskReason, type TaskRun, type TaskStatus } from '../types.ts';
import { findCycles } from './cycles.ts';
import { ReadyHeap, type QueueEntry } from './heap.ts';

export interface Node {
  def: TaskDef;
  run: TaskRun;
  /** Indices of the tasks it waits for, and of those waiting for it. */
  deps: number[];
  dependents: number[];
  /** Dependencies not completed yet. */
  unmet: number;
  /** Its ready queue and concurrency bucket: the capability, or '@' + the target id. */
  key: string;
  dirty: boolean;
}

/** A task taken off the ready queue: what the plumbing needs to dispatch its attempt. */
export interface Dispatch {
  index: number;
  def: TaskDef;
  attempt: number;
  deps: Record<string, unknown>;
}

export interface CoreOptions extends GraphOptions {
  graphId: string;
  /** Record a TaskEvent per transition (takeEvents). */
  events?: boolean;
}

/** What the durable record keeps besides the tasks. */
export interface CoreExtra {
  seq: number;
  resolutions: DeadlockResolution[];
  cancelled: boolean;
}

export class GraphStore {
  readonly nodes: Node[] = [];
  readonly resolutions: DeadlockResolution[] = [];
  cancelled = false;
  protected readonly byId = new Map<string, number>();
  protected readonly heaps = new Map<string, ReadyHeap>();
  /** The same heaps as a list with their keys (next() walks it for every dispatch: a Map's entries allocate). */
  protected readonly heapList: Array<{ key: string; heap: ReadyHeap }> = [];
  protected readonly runningByKey = new Map<string, number>();
  protected readonly counts: Record<TaskStatus, number> = { blocked: 0, ready: 0, running: 0, completed: 0, failed: 0, skipped: 0, cancelled: 0 };
  /** Whether changed tasks are marked dirty (takeDirty): not for a graph whose record does not keep its tasks. */
  recording = true;
  protected readonly waiting = new Set<number>();
  protected seq = 0;
  protected dirtyList: number[] = [];
  protected events: TaskEvent[] = [];
  protected readonly valid = (e: QueueEntry) => this.nodes[e.index].run.status === 'ready' && this.nodes[e.index].run.q === e.seq;

  constructor(readonly opts: CoreOptions) {}


  get size(): number {
    return this.nodes.length;
  }
  get nextSeq(): number {
    return this.seq;
  }
  has(id: string): boolean {
    return this.byId.has(id);
  }
  indexOf(id: string): number {
    const i = this.byId.get(id);
    if (i === undefined) throw new TaskNotFoundError(`no task '${id}' in graph '${this.opts.graphId}'`, { details: { taskId: id } });
    return i;
  }
  outcome(id: string): TaskOutcome {
    const { run } = this.nodes[this.indexOf(id)];
    const o: TaskOutcome = { id, status: run.status, attempts: run.attempts };
    if (run.result !== undefined) o.result = run.result;
    if (run.error !== undefined) o.error = run.error;
    if (run.reason !== undefined) o.reason = run.reason;
    return o;
  }

  // ---- the ready queue ----------------------------------------------------------------------------------------

  protected heap(key: string): ReadyHeap {
    let h = this.heaps.get(key);
    if (h === undefined) {
      this.heaps.set(key, (h = new ReadyHeap(this.valid)));
      this.heapList.push({ key, heap: h });
    }
    return h;
  }

  protected makeReady(i: number, now: number): void {
    const node = this.nodes[i];
    node.run.q = this.seq++;
    // Deleting only what is there: a delete turns the object into a slow dictionary (spread on every write-back).
    if (node.run.retryAt !== undefined) delete node.run.retryAt;
    if (node.run.reason !== undefined) delete node.run.reason;
    if (this.waiting.size > 0) this.waiting.delete(i);
    this.set(i, 'ready', now);
    this.heap(node.key).push({ priority: node.def.priority, seq: node.run.q, index: i });
  }

  protected limit(key: string): number {
    const name = key.startsWith('@') ? key.slice(1) : key;
    return this.opts.perCapability[name] ?? Infinity;
  }

  protected bump(key: string, by: number): void {
    this.runningByKey.set(key, (this.runningByKey.get(key) ?? 0) + by);
  }

  /** Task `from` ended without completing: its dependents (or only `only`) are failed or skipped, per the policy. */
  protected propagateFrom(from: number, now: number, only?: number[]): number[] {
    const src = this.nodes[from];
    const failFast = this.opts.failurePolicy === 'fail-fast' && src.run.status === 'failed';
    const to: TaskStatus = failFast ? 'failed' : 'skipped';
    const reason: TaskReason = { code: 'dependency-failed', message: `dependency '${src.def.id}' ${src.run.status}`, dependency: src.def.id };
    const queue = only ?? [...src.dependents];
    for (let k = 0; k < queue.length; k++) {
      const t = queue[k];
      if (TERMINAL.has(this.nodes[t].run.status)) continue;
      this.end(t, to, now, reason);
      queue.push(...this.nodes[t].dependents);
    }
    if (!failFast) return [];
    const stopped: number[] = [];
    const fast: TaskReason = { code: 'fail-fast', message: `task '${src.def.id}' failed and the graph fails fast`, dependency: src.def.id };
    for (let i = 0; i < this.nodes.length; i++) {
      const s = this.nodes[i].run.status;
      if (s === 'running') stopped.push(i);
      if (!TERMINAL.has(s)) this.end(i, s === 'running' ? 'cancelled' : 'skipped', now, fast);
    }
    return stopped;
  }

  protected end(i: number, to: TaskStatus, now: number, reason: TaskReason): void {
    if (this.nodes[i].run.status === 'running') this.stopRunning(i, to, now, { reason });
    else this.set(i, to, now, { reason });
    this.waiting.delete(i);
    if (this.nodes[i].run.retryAt !== undefined) delete this.nodes[i].run.retryAt;
  }

  protected stopRunning(i: number, to: TaskStatus, now: number, extra?: { reason?: TaskReason }): void {
    this.bump(this.nodes[i].key, -1);
    this.nodes[i].run.endedAt = now;
    this.set(i, to, now, extra);
  }

  /**
   * Move task `i` to `to`. `record`: false for a dispatch (ready -> running), which the stored record does not keep
   * (tasks/actor/record.ts: a running attempt is stored as the ready task it was), so it marks nothing dirty.
   */
  protected set(i: number, to: TaskStatus, now: number, extra?: { reason?: TaskReason }, record = true): void {
    const run = this.nodes[i].run;
    const from = run.status;
    this.counts[from]--;
    this.counts[to]++;
    run.status = to;
    if (extra?.reason !== undefined) run.reason = extra.reason;
    if (TERMINAL.has(to) && run.endedAt === undefined) run.endedAt = now;
    if (record) this.markDirty(i);
    this.event(i, from, now);
  }

  protected event(i: number, from: TaskStatus | 'new', now: number): void {
    if (this.opts.events !== true) return;
    const { def, run } = this.nodes[i];
    const e: TaskEvent = { graphId: this.opts.graphId, taskId: def.id, from, to: run.status, at: now, attempt: run.attempts };
    if (run.reason !== undefined) e.reason = run.reason;
    if (run.error !== undefined && (run.status === 'failed' || run.reason?.code === 'retry-wait')) e.error = run.error;
    this.events.push(e);
  }

  protected markDirty(i: number): void {
    if (!this.recording || this.nodes[i].dirty) return;
    this.nodes[i].dirty = true;
    this.dirtyList.push(i);
  }

  /** Indices of the tasks changed since the last call. */
  takeDirty(): number[] {
    const list = this.dirtyList;
    this.dirtyList = [];
    for (const i of list) this.nodes[i].dirty = false;
    return list;
  }

  takeEvents(): TaskEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  extra(): CoreExtra {
    return { seq: this.seq, resolutions: [...this.resolutions], cancelled: this.cancelled };
  }

  // ---- progress -----------------------------------------------------------------------------------------------

  progress(): Progress {
    const c = this.counts;
    return { graphId: this.opts.graphId, status: this.status(), total: this.nodes.length, blocked: c.blocked, ready: c.ready, running: c.running,
      completed: c.completed, failed: c.failed, skipped: c.skipped, cancelled: c.cancelled, retrying: this.waiting.size };
  }

  status(): GraphStatus {
    const c = this.counts;
    if (c.blocked + c.ready + c.running > 0) return c.ready + c.running + this.waiting.size > 0 ? 'running' : 'stuck';
    if (this.cancelled) return 'cancelled';
    return c.failed > 0 ? 'failed' : 'completed';
  }

  /** The tasks blocked for ever and the cycles behind them, when nothing can move any more. */
  stuck(): StuckReport | undefined {
    if (this.status() !== 'stuck') return undefined;
    const blocked = this.nodes.filter((n) => n.run.status === 'blocked').map((n) => n.def.id);
    return { blocked, cycles: this.detectDeadlocks() };
  }

  /** Cycles among the tasks not ended yet, each as its task ids. */
  detectDeadlocks(): string[][] {
    const live = (v: number) => !TERMINAL.has(this.nodes[v].run.status);
    return findCycles(this.nodes.length, (v) => this.nodes[v].deps, live).map((c) => c.map((v) => this.nodes[v].def.id));
  }
}