// The pure core of a task graph: tasks, their dependencies (a DAG), the ready queue and every transition. No
// threads, no timers, no I/O: time and randomness are passed in, so it is tested as a model and driven by the
// durable actor (tasks/actor/) as plain data. Whatever it changes it marks dirty (takeDirty) and, when asked to,
// records as events (takeEvents), so the actor writes back only what moved. State and shared transitions: store.ts.
import { InvalidTaskError, TaskDeadlockError, UnknownDependencyError } from '../errors.ts';
import { TERMINAL, type AddResult, type DeadlockResolution, type TaskDef, type TaskEdge, type TaskError, type TaskReason, type TaskRun, type TaskSpec } from '../types.ts';
import { findCycles } from './cycles.ts';
import { before, type QueueEntry, type ReadyHeap } from './heap.ts';
import { decideRetry } from './retry.ts';
import { GraphStore, type CoreExtra, type CoreOptions, type Dispatch } from './store.ts';
import { validateBatch } from './validate.ts';

export type { CoreExtra, CoreOptions, Dispatch, Node } from './store.ts';

const NONE: readonly number[] = Object.freeze([]);

/** Ended without completing: a task behind one of these can never run. */
const ENDED_UNCOMPLETED: ReadonlySet<string> = new Set(['failed', 'skipped', 'cancelled']);

export class TaskGraph extends GraphStore {
  /** A graph rebuilt from its stored definitions and runs (copied: the stored ones are frozen). */
  static restore(opts: CoreOptions, defs: readonly TaskDef[], runs: readonly TaskRun[], extra: CoreExtra): TaskGraph {
    const g = new TaskGraph(opts);
    g.seq = extra.seq;
    g.cancelled = extra.cancelled;
    g.resolutions.push(...extra.resolutions);
    for (let i = 0; i < defs.length; i++) g.insert({ ...defs[i], dependsOn: [...defs[i].dependsOn] }, { ...runs[i] });
    for (let i = 0; i < defs.length; i++) g.wire(i);
    for (let i = 0; i < defs.length; i++) {
      const run = g.nodes[i].run;
      if (run.status === 'ready') g.heap(g.nodes[i].key).push({ priority: g.nodes[i].def.priority, seq: run.q, index: i });
      if (run.status === 'running') g.bump(g.nodes[i].key, 1);
      if (run.retryAt !== undefined && run.status === 'blocked') g.waiting.add(i);
    }
    return g;
  }

  // ---- adding tasks -------------------------------------------------------------------------------------------

  /**
   * Add a batch (and new edges between tasks), all or nothing: every check, the cycle check of the 'reject'
   * policy included, runs before anything changes. Cycles are then resolved per the deadlock policy.
   */
  add(specs: readonly TaskSpec[], now: number, edges: readonly TaskEdge[] = []): AddResult {
    return this.addDefs(validateBatch(specs, (id) => this.byId.has(id), this.opts.durable), now, edges);
  }

  /**
   * add() of definitions validateBatch made already, against this graph's ids (the manager validates a submit
   * before the graph's actor exists, and hands the actor the definitions: each payload is checked once). The
   * definitions become the graph's own.
   */
  addDefs(defs: TaskDef[], now: number, edges: readonly TaskEdge[] = []): AddResult {
    const n0 = this.nodes.length;
    // (No map of the batch's ids when nothing refers to them: a graph of independent tasks, 2,000 pairs for nothing.)
    const batch = edges.length > 0 || defs.some((d) => d.dependsOn.length > 0) ? new Map(defs.map((d, k) => [d.id, n0 + k])) : undefined;
    const at = (id: string) => this.byId.get(id) ?? batch?.get(id);
    const extra = new Map<number, number[]>();
    for (const e of Array.isArray(edges) ? edges : []) {
      const t = at(e?.task), d = at(e?.dependsOn);
      if (t === undefined) throw new InvalidTaskError(`edge: no task '${e?.task}'`, { details: { taskId: String(e?.task) } });
      if (d === undefined) throw new UnknownDependencyError(`edge: task '${e.task}' depends on '${e.dependsOn}', which is not in the graph`, { details: { taskId: e.task, dependency: e.dependsOn } });
      if (t < n0 && !['blocked', 'ready'].includes(this.nodes[t].run.status)) {
        throw new InvalidTaskError(`edge: task '${e.task}' has already started (${this.nodes[t].run.status})`, { details: { taskId: e.task } });
      }
      extra.set(t, [...(extra.get(t) ?? []), d]);
    }
    const tentative = (v: number): readonly number[] => {
      const base = v < n0 ? this.nodes[v].deps : defs[v - n0].dependsOn.length === 0 ? NONE : defs[v - n0].dependsOn.map((id) => at(id)!);
      const more = extra.get(v);
      return more === undefined ? base : [...base, ...more];
    };
    const cycles = findCycles(n0 + defs.length, tentative, (v) => v >= n0 || !TERMINAL.has(this.nodes[v].run.status));
    const nameOf = (v: number) => (v < n0 ? this.nodes[v].def.id : defs[v - n0].id);
    if (cycles.length > 0 && this.opts.deadlock === 'reject') {
      const ids = cycles.map((c) => c.map(nameOf));
      throw new TaskDeadlockError(`dependency cycle(s): ${ids.map((c) => c.join(' -> ')).join('; ')}`, { details: { taskId: ids[0][0], cycles: ids } });
    }
    // Accepted: from here on nothing throws.
    for (const def of defs) this.insert(def, { status: 'blocked', attempts: 0, q: 0 });
    for (let i = n0; i < this.nodes.length; i++) this.wire(i);
    for (const [t, ds] of extra) for (const d of ds) this.link(t, d, now);
    for (let i = n0; i < this.nodes.length; i++) this.event(i, 'new', now);
    const resolutions: DeadlockResolution[] = [];
    if (this.opts.deadlock === 'remove-lowest') for (const c of cycles) this.breakCycle(c, now, resolutions);
    else for (const c of cycles) resolutions.push({ cycle: c.map(nameOf), at: now });
    this.resolutions.push(...resolutions);
    for (let i = n0; i < this.nodes.length; i++) this.settleNew(i, now);
    for (const t of extra.keys()) if (t < n0) this.settleNew(t, now);
    return { added: defs.map((d) => d.id), resolutions };
  }

  protected insert(def: TaskDef, run: TaskRun): void {
    const i = this.nodes.length;
    this.byId.set(def.id, i);
    this.nodes.push({ def, run, deps: [], dependents: [], unmet: 0, key: def.capability ?? `@${def.target}`, dirty: false });
    this.counts[run.status]++;
    this.markDirty(i);
  }

  protected wire(i: number): void {
    for (const id of this.nodes[i].def.dependsOn) this.link(i, this.byId.get(id)!, 0, false);
  }

  /** `t` waits for `d`. `record`: a new edge, also written into t's stored dependsOn. */
  protected link(t: number, d: number, now: number, record = true): void {
    const node = this.nodes[t];
    if (record) {
      if (node.deps.includes(d)) return;
      node.def.dependsOn.push(this.nodes[d].def.id);
      this.markDirty(t);
    }
    node.deps.push(d);
    this.nodes[d].dependents.push(t);
    if (this.nodes[d].run.status !== 'completed') node.unmet++;
    if (node.run.status === 'ready' && node.unmet > 0) this.set(t, 'blocked', now);
  }

  /** A new (or newly linked) task: ready when nothing is unmet; failed or skipped at once behind a dead dependency. */
  protected settleNew(i: number, now: number): void {
    const node = this.nodes[i];
    if ((node.run.status !== 'blocked' && node.run.status !== 'ready') || node.run.retryAt !== undefined) return;
    let dead: number | undefined;
    for (const d of node.deps) if (ENDED_UNCOMPLETED.has(this.nodes[d].run.status)) (dead ??= d);
    if (dead !== undefined) {
      this.propagateFrom(dead, now, [i]);
      return;
    }
    if (node.unmet === 0 && node.run.status === 'blocked') this.makeReady(i, now);
  }

  /** Remove the lowest-priority task of a cycle (the latest added among equals), then recheck what is left of it. */
  protected breakCycle(cycle: number[], now: number, out: DeadlockResolution[]): void {
    const ids = cycle.map((v) => this.nodes[v].def.id);
    let victim = cycle[0];
    for (const v of cycle) {
      const p = this.nodes[v].def.priority, q = this.nodes[victim].def.priority;
      if (p < q || (p === q && v > victim)) victim = v;
    }
    const reason: TaskReason = { code: 'deadlock', message: `removed to break the cycle ${ids.join(' -> ')}`, cycle: ids };
    this.end(victim, 'cancelled', now, reason);
    // Its dependents go on without it.
    for (const t of this.nodes[victim].dependents) {
      const node = this.nodes[t];
      node.deps = node.deps.filter((d) => d !== victim);
      node.def.dependsOn = node.def.dependsOn.filter((id) => id !== this.nodes[victim].def.id);
      node.unmet--;
      this.markDirty(t);
    }
    this.nodes[victim].dependents = [];
    out.push({ cycle: ids, removed: this.nodes[victim].def.id, at: now });
    const rest = new Set(cycle.filter((v) => v !== victim));
    for (const c of findCycles(this.nodes.length, (v) => this.nodes[v].deps, (v) => rest.has(v))) this.breakCycle(c, now, out);
    for (const v of rest) if (this.nodes[v].unmet === 0) this.settleNew(v, now);
  }

  /** The highest-priority ready task (FIFO within a priority) whose capability has room: now running. */
  next(now: number): Dispatch | undefined {
    if (this.counts.running >= this.opts.concurrency) return undefined;
    let best: QueueEntry | undefined;
    let bestHeap: ReadyHeap | undefined;
    const list = this.heapList;
    for (let k = 0; k < list.length; k++) {
      const { key, heap } = list[k];
      if (heap.size === 0 || (this.runningByKey.get(key) ?? 0) >= this.limit(key)) continue;
      const top = heap.peek();
      if (top !== undefined && (best === undefined || before(top, best))) (best = top), (bestHeap = heap);
    }
    if (best === undefined) return undefined;
    bestHeap!.pop();
    this.begin(best.index, now);
    return this.dispatchOf(best.index);
  }

  /** Ready task `i` starts its next attempt (not recorded: see set). */
  protected begin(i: number, now: number): void {
    const node = this.nodes[i];
    node.run.attempts++;
    node.run.startedAt = now;
    node.run.firstStartedAt ??= now;
    this.set(i, 'running', now, undefined, false);
    this.bump(node.key, 1);
  }

  /**
   * Whether attempt `attempt` of task `i` is the one running. A ready task whose next attempt it is was running
   * when its record was written (a dispatch is not recorded): a graph rebuilt from that record (after a crash, or
   * a replayed journal) takes the outcome of that attempt as the outcome of a running one.
   */
  protected current(i: number, attempt: number, now: number): boolean {
    const run = this.nodes[i].run;
    if (run.status === 'running') return run.attempts === attempt;
    if (run.status !== 'ready' || run.attempts !== attempt - 1) return false;
    this.begin(i, now);
    return true;
  }

  /** The dispatch of a running task's current attempt (a re-dispatch after a crash sends the same). */
  dispatchOf(i: number): Dispatch {
    const node = this.nodes[i];
    const deps: Record<string, unknown> = {};
    for (const d of node.deps) deps[this.nodes[d].def.id] = this.nodes[d].run.result;
    return { index: i, def: node.def, attempt: node.run.attempts, deps };
  }

  running(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.nodes.length; i++) if (this.nodes[i].run.status === 'running') out.push(i);
    return out;
  }

  // ---- outcomes -----------------------------------------------------------------------------------------------

  /** Attempt `attempt` of task `i` succeeded. False when that attempt no longer counts (cancelled, superseded). */
  complete(i: number, attempt: number, result: unknown, now: number): boolean {
    const node = this.nodes[i];
    if (!this.current(i, attempt, now)) return false;
    node.run.result = result;
    if (node.run.error !== undefined) delete node.run.error;
    this.stopRunning(i, 'completed', now);
    for (const t of node.dependents) {
      const dep = this.nodes[t];
      dep.unmet--;
      if (dep.unmet === 0 && dep.run.status === 'blocked') this.makeReady(t, now);
    }
    return true;
  }

  /**
   * Attempt `attempt` of task `i` failed: retried under its retry policy (ready again at once, or blocked until
   * its backoff ends: `promote`), or failed for good, its dependents then failed or skipped. Returns the running
   * tasks the graph's failure stopped (fail-fast): their workers are to be told.
   */
  fail(i: number, attempt: number, error: TaskError, now: number, random: () => number): number[] {
    const node = this.nodes[i];
    if (!this.current(i, attempt, now)) return [];
    node.run.error = error;
    const verdict = decideRetry(node.def.retry ?? this.opts.retry, attempt, node.run.firstStartedAt ?? now, now, error, random);
    if (verdict.retry) {
      this.stopRunning(i, 'blocked', now, { reason: { code: 'retry-wait', message: `attempt ${attempt} failed: ${error.message}` } });
      if (verdict.delayMs <= 0) this.makeReady(i, now);
      else {
        node.run.retryAt = now + verdict.delayMs;
        this.waiting.add(i);
      }
      return [];
    }
    this.stopRunning(i, 'failed', now, { reason: { code: 'error', message: `${error.message} (${verdict.why})` } });
    return this.propagateFrom(i, now);
  }

  /** Tasks whose retry backoff is over become ready. */
  promote(now: number): void {
    for (const i of [...this.waiting]) if (this.nodes[i].run.retryAt! <= now) this.makeReady(i, now);
  }

  /** When the next retry backoff ends. */
  nextRetryAt(): number | undefined {
    let at: number | undefined;
    for (const i of this.waiting) if (at === undefined || this.nodes[i].run.retryAt! < at) at = this.nodes[i].run.retryAt;
    return at;
  }

  /**
   * Cancel a task (its dependents are skipped) or, without an id, the whole graph. Returns the running tasks
   * stopped, whose workers are to be told.
   */
  cancel(id: string | undefined, now: number): number[] {
    if (id === undefined) {
      this.cancelled = true;
      const stopped: number[] = [];
      const reason: TaskReason = { code: 'cancelled', message: 'the graph was cancelled' };
      for (let i = 0; i < this.nodes.length; i++) {
        const s = this.nodes[i].run.status;
        if (s === 'running') stopped.push(i);
        if (!TERMINAL.has(s)) this.end(i, 'cancelled', now, reason);
      }
      return stopped;
    }
    const i = this.indexOf(id);
    const s = this.nodes[i].run.status;
    if (TERMINAL.has(s)) return [];
    this.end(i, 'cancelled', now, { code: 'cancelled', message: 'cancelled' });
    const stopped = this.propagateFrom(i, now);
    return s === 'running' ? [i, ...stopped] : stopped;
  }

}
