// Model-based test of the pure task graph (tasks/graph/graph.ts): random DAGs, random sequences of dispatches,
// completions, failures (retryable or not) and cancellations, against a reference model written as plainly as
// possible (linear scans). Checked at every step: the task dispatched is the one the model picks (highest
// priority among ready tasks whose capability has room, FIFO within a priority), none runs before all its
// dependencies completed, and the statuses agree; at the end every task is in exactly one terminal state.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaskGraph } from '../../tasks/graph/graph.ts';
import type { FailurePolicy, TaskSpec, TaskStatus } from '../../tasks/types.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 150);
const TERMINAL = ['completed', 'failed', 'skipped', 'cancelled'];

interface MTask { id: string; prio: number; deps: number[]; cap: 'a' | 'b'; max: number; status: TaskStatus; attempts: number; seq: number }

class Model {
  seq = 0;
  constructor(readonly tasks: MTask[], readonly policy: FailurePolicy, readonly concurrency: number, readonly capA: number) {
    for (const t of tasks) if (t.deps.length === 0) this.ready(t);
  }
  ready(t: MTask) {
    t.status = 'ready';
    t.seq = this.seq++;
  }
  dependents(i: number): number[] {
    return this.tasks.flatMap((t, k) => (t.deps.includes(i) ? [k] : []));
  }
  next(): MTask | undefined {
    const running = this.tasks.filter((t) => t.status === 'running');
    if (running.length >= this.concurrency) return undefined;
    const aRunning = running.filter((t) => t.cap === 'a').length;
    const candidates = this.tasks.filter((t) => t.status === 'ready' && (t.cap === 'b' || aRunning < this.capA));
    candidates.sort((x, y) => y.prio - x.prio || x.seq - y.seq);
    const t = candidates[0];
    if (t) {
      t.status = 'running';
      t.attempts++;
    }
    return t;
  }
  complete(i: number) {
    this.tasks[i].status = 'completed';
    for (const k of this.dependents(i)) {
      const t = this.tasks[k];
      if (t.status === 'blocked' && t.deps.every((d) => this.tasks[d].status === 'completed')) this.ready(t);
    }
  }
  fail(i: number, retryable: boolean) {
    const t = this.tasks[i];
    if (retryable && t.attempts < t.max) return this.ready(t);
    t.status = 'failed';
    this.propagate(i, this.policy === 'fail-fast' ? 'failed' : 'skipped');
    if (this.policy === 'fail-fast') for (const u of this.tasks) if (!TERMINAL.includes(u.status)) u.status = u.status === 'running' ? 'cancelled' : 'skipped';
  }
  cancel(i: number) {
    if (TERMINAL.includes(this.tasks[i].status)) return;
    this.tasks[i].status = 'cancelled';
    this.propagate(i, 'skipped');
  }
  propagate(i: number, to: TaskStatus) {
    for (const k of this.dependents(i)) {
      if (TERMINAL.includes(this.tasks[k].status)) continue;
      this.tasks[k].status = to;
      this.propagate(k, to);
    }
  }
}

type Action = { kind: 'next' } | { kind: 'complete'; pick: number } | { kind: 'fail'; pick: number; retryable: boolean } | { kind: 'cancel'; task: number };

const dagArb = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.tuple(
    fc.array(fc.record({
      prio: fc.constantFrom(1, 3, 5, 7, 10),
      deps: fc.array(fc.nat(), { maxLength: 3 }),
      cap: fc.constantFrom<'a' | 'b'>('a', 'b'),
      max: fc.integer({ min: 1, max: 3 }),
    }), { minLength: n, maxLength: n }),
    fc.array(fc.oneof(
      { weight: 5, arbitrary: fc.constant<Action>({ kind: 'next' }) },
      { weight: 3, arbitrary: fc.nat().map<Action>((pick) => ({ kind: 'complete', pick })) },
      { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.boolean()).map<Action>(([pick, retryable]) => ({ kind: 'fail', pick, retryable })) },
      { weight: 1, arbitrary: fc.nat().map<Action>((task) => ({ kind: 'cancel', task })) },
    ), { maxLength: 80 }),
    fc.constantFrom<FailurePolicy>('fail-fast', 'continue-independent'),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 3 }),
  ));

describe('task graph against a reference model', () => {
  it('dispatch order, dependencies, retries, failure policies and cancellation agree with the model', () => {
    fc.assert(fc.property(dagArb, ([raw, actions, policy, concurrency, capA]) => {
      // Dependencies only on earlier tasks: a DAG.
      const tasks: MTask[] = raw.map((r, i) => ({
        id: `t${i}`, prio: r.prio, cap: r.cap, max: r.max, status: 'blocked', attempts: 0, seq: 0,
        deps: i === 0 ? [] : [...new Set(r.deps.map((d) => d % i))],
      }));
      const specs: TaskSpec[] = tasks.map((t) => ({
        id: t.id, type: 'work', capability: t.cap, priority: t.prio, dependsOn: t.deps.map((d) => `t${d}`),
        retry: { maxAttempts: t.max, baseMs: 0, capMs: 0 },
      }));
      const g = new TaskGraph({ graphId: 'g', failurePolicy: policy, deadlock: 'reject', concurrency, perCapability: { a: capA }, retry: false, timeoutMs: 1000, durable: false, routing: 'router' });
      g.add(specs, 0);
      const model = new Model(tasks, policy, concurrency, capA);
      let now = 1;
      const running = () => tasks.flatMap((t, i) => (t.status === 'running' ? [i] : []));
      const check = () => {
        for (let i = 0; i < tasks.length; i++) expect(g.outcome(`t${i}`).status, `t${i}`).toBe(tasks[i].status);
      };
      const step = (a: Action) => {
        now++;
        if (a.kind === 'next') {
          const d = g.next(now);
          const m = model.next();
          expect(d?.def.id).toBe(m?.id);
          if (d) {
            for (const dep of d.def.dependsOn) expect(g.outcome(dep).status).toBe('completed');
            expect(Object.keys(d.deps).sort()).toEqual([...d.def.dependsOn].sort());
          }
        } else if (a.kind === 'complete' || a.kind === 'fail') {
          const r = running();
          if (r.length === 0) return;
          const i = r[a.pick % r.length];
          const attempt = tasks[i].attempts;
          if (a.kind === 'complete') {
            expect(g.complete(i, attempt, `r${i}`, now)).toBe(true);
            model.complete(i);
          } else {
            g.fail(i, attempt, { name: 'Error', message: 'boom', code: a.retryable ? 'ERR_ACTOR_CRASHED' : 'ERR_BAD_INPUT' }, now, () => 0.5);
            model.fail(i, a.retryable);
          }
          // A stale attempt no longer counts.
          expect(g.complete(i, attempt - 1, 'stale', now)).toBe(false);
        } else {
          const i = a.task % tasks.length;
          g.cancel(`t${i}`, now);
          model.cancel(i);
        }
        check();
      };
      for (const a of actions) step(a);
      // Drain: dispatch and complete until nothing moves.
      for (let guard = 0; guard < 10 * tasks.length + 10; guard++) {
        step({ kind: 'next' });
        step({ kind: 'complete', pick: 0 });
      }
      check();
      for (const t of tasks) expect(TERMINAL).toContain(t.status);
      const p = g.progress();
      expect(p.completed + p.failed + p.skipped + p.cancelled).toBe(tasks.length);
      expect(p.status).not.toBe('running');
      expect(p.status).not.toBe('stuck');
      expect(g.takeDirty().length).toBeGreaterThan(0);
    }), { numRuns: RUNS });
  });
});
