/**
 * Model-based test of supervision: random command sequences (crash a child, tell / ask / acknowledged send in bursts,
 * advance the injected clock, lose a whole worker thread) run against the real runtime and against a small model of
 * the tree written here from the documented semantics (supervisors/, /work/shared/design-notes.md). After every
 * command the two must agree on: each child's status, restart count and circuit snapshot; every crash report
 * (decision, delay, restart count, time); the outcome of every ask (value, error code, circuit retry hint), including
 * asks held in a restart stash and asks that time out there; each actor's phase on its thread; and, on one thread,
 * the dead-letter counts.
 *
 * The supervisor: one-for-one, onExhausted 'open-circuit' (intensity counted per child), backoff without jitter,
 * all limits drawn at random per run. A lost thread counts as a crash for its running or restarting children, as a
 * failed trial for a half-open one, and not at all for one whose circuit is open. Either way a stand-in takes the
 * child's place on the replacement thread at once (runtime/supervision.ts, StandIn), so from then on callers see
 * what they see after a crash on a live thread: mail held during backoff, circuit-open errors while open.
 *
 * Time: the supervisors run on a ManualClock (backoff and circuit timers fire synchronously inside `advance`), so a
 * run covers minutes of supervision time in milliseconds. Handlers run after `advance` returns, so whatever a
 * restarted child does with its stash happens at the end time. A circuit's retry hint is counted in that clock on
 * worker threads too (runtime/timebase.ts), so it is compared exactly. Handlers on worker threads still use real
 * time: after each command the test polls (bounded) until the runtime shows what the model says, then checks that
 * it keeps showing it over a few more looks (each one a round trip to every worker).
 *
 * Replaying a failure: fast-check prints the seed and path of the failing run (and a replayPath for the commands).
 *   TROUPE_FC_SEED=<seed> TROUPE_FC_PATH=<path> [TROUPE_FC_REPLAY=<replayPath>] npx vitest run test/supervisors/model.test.ts
 * TROUPE_FC_RUNS sets the number of runs (default 20 single-thread runs; a quarter of that, at least 3, with workers).
 * The seed and path apply to both properties: add -t 'one thread' or -t 'worker' for the one that failed.
 *
 * Not covered: stalled threads (stall detection runs on the injected clock, so on a ManualClock any single advance
 * longer than stallMs declares every worker stalled: pongs cannot arrive in the middle of `advance`); timers firing
 * early, as Node's do (see armTrial in supervisor.ts); strategies other than one-for-one; escalation; nested
 * supervisors; async handlers (so a trial is never seen in flight across commands); stopping children; stash limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { Runtime } from '../../runtime/index.ts';
import { ManualClock } from '../../runtime/clock.ts';
import type { ActorRef } from '../../actors/define.ts';
import type { ChildStatus, CrashReport, Supervisor } from '../../supervisors/index.ts';
import { flaky } from '../fixtures/flaky.ts';
import '../kernel/helpers.ts'; // silences the runtime's logger

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 20);
const SEED = process.env.TROUPE_FC_SEED === undefined ? undefined : Number(process.env.TROUPE_FC_SEED);
const PATH = process.env.TROUPE_FC_PATH;
const REPLAY = process.env.TROUPE_FC_REPLAY;
/** Runs with worker threads cost ~1-3 s each (every lost thread is replaced by a fresh one). */
const WORKER_RUNS = Math.max(3, Math.round(RUNS / 4));
const assertOptions = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(SEED !== undefined ? { seed: SEED } : {}),
  ...(PATH !== undefined ? { path: PATH } : {}),
});
const ASK_TIMEOUT_MS = 5000; // the runtime's default, on the injected clock

// ---- the supervisor under test ------------------------------------------------------------------------------------

interface Config {
  maxRestarts: number;
  withinMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  resetAfterMs: number;
  resetMs: number;
  maxResetMs: number;
  multiplier: number;
}

const configArb: fc.Arbitrary<Config> = fc
  .record({
    maxRestarts: fc.integer({ min: 0, max: 3 }),
    withinMs: fc.constantFrom(300, 1000, 2000),
    backoffMinMs: fc.constantFrom(0, 50, 100),
    backoffSteps: fc.integer({ min: 0, max: 3 }),
    resetAfterMs: fc.constantFrom(200, 1000, 5000),
    resetMs: fc.constantFrom(100, 500),
    multiplier: fc.constantFrom(1, 1.5, 2),
    resetSteps: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ backoffSteps, resetSteps, ...c }) => ({
    ...c,
    backoffMaxMs: c.backoffMinMs * 2 ** backoffSteps,
    maxResetMs: c.resetMs * 2 ** resetSteps,
  }));

// ---- the model -----------------------------------------------------------------------------------------------------

type Op = { t: 'add'; n: number; acked: boolean } | { t: 'get' } | { t: 'crash' };
/** What an ask (or acknowledged send) settles with; `ok: -1` stands for a send's acknowledgement. */
type Outcome = { ok: number } | { err: string; retryInMs?: number; phase?: string };
type Phase = 'running' | 'restarting' | 'open' | 'half-open' | 'trial';

interface AskRec {
  node: number;
  deadline: number;
  /** The model's verdict; undefined while the message waits in a stash. */
  expected?: Outcome;
  /** What the runtime settled it with; undefined while pending. */
  actual?: Outcome;
}

interface Msg {
  op: Op;
  ask?: AskRec;
}

interface Breaker {
  phase: 'closed' | 'open' | 'trial';
  openedAt: number;
  resetTimeout: number;
  trips: number;
}

interface ModelChild {
  id: string;
  node: number;
  /** The supervisor's view (ChildInfo.status). */
  status: ChildStatus;
  /** The actor's phase on its thread (a stand-in's, after its thread was lost). */
  phase: Phase;
  /** Sum of the 'add's handled by the current incarnation. */
  count: number;
  /** Mailbox (the stash while restarting). */
  queue: Msg[];
  restarts: number;
  /** Restart intensity window: timestamps of counted restarts. */
  stamps: number[];
  attempt: number;
  restartedAt?: number;
  breaker?: Breaker;
  /** The retry time the actor's thread was told when its circuit opened (CircuitOpenError.details.retryInMs). */
  cellRetryAt: number;
  timer?: { at: number; seq: number; kind: 'restart' | 'circuit' };
}

interface ExpectedReport {
  decision: string;
  messageType: string;
  restartCount: number;
  at: number;
  delayMs?: number;
}

class Model {
  now: number;
  readonly kids: ModelChild[];
  readonly reports: Record<string, ExpectedReport[]> = {};
  readonly asks: AskRec[] = [];
  readonly deadLetters = { crashed: 0, 'circuit-open': 0 };
  private seq = 0;

  constructor(readonly cfg: Config, start: number, children: { id: string; node: number }[]) {
    this.now = start;
    this.kids = children.map(({ id, node }) => ({
      id, node, status: 'running', phase: 'running', count: 0, queue: [], restarts: 0, stamps: [], attempt: 0, cellRetryAt: 0,
    }));
    for (const { id } of children) this.reports[id] = [];
  }

  /** A message arrives at the child's thread (synchronously, in send order). */
  deliver(c: ModelChild, op: Op): AskRec | undefined {
    const ask: AskRec | undefined = op.t === 'add' && !op.acked ? undefined : { node: c.node, deadline: this.now + ASK_TIMEOUT_MS };
    if (ask) this.asks.push(ask);
    if (c.phase === 'half-open') c.phase = 'trial'; // the first message after half-open is the one trial
    else if (c.phase === 'open' || c.phase === 'trial') {
      // Open, or the trial already admitted: fail fast with the retry hint.
      this.deadLetters['circuit-open']++;
      this.settle(ask, this.circuitOpenError(c));
      return ask;
    }
    c.queue.push({ op, ask }); // restarting: held in the stash for the next incarnation
    if (op.t === 'add' && op.acked) this.settle(ask, { ok: -1 }); // acknowledged once in the mailbox
    return ask;
  }

  /** Each child handles what it can (the scheduler's turn after the command). */
  processAll(): void {
    for (const c of this.kids) this.process(c);
  }

  /** Moves the clock forward, firing due timers in deadline order (ties in the order they were set). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: ModelChild | undefined;
      for (const c of this.kids) {
        const t = c.timer;
        if (t === undefined || t.at > end) continue;
        if (next === undefined || t.at < next.timer!.at || (t.at === next.timer!.at && t.seq < next.timer!.seq)) next = c;
      }
      if (next === undefined) break;
      this.now = next.timer!.at;
      this.fire(next);
    }
    this.now = end;
    // Ask deadlines fire inside `advance` too, before any restarted child gets to handle its stash.
    for (const a of this.asks) if (a.expected === undefined && a.deadline <= end) a.expected = { err: 'ERR_ASK_TIMEOUT' };
    this.processAll();
  }

  /**
   * Worker thread `node` died: its actors and their mail are lost, and a stand-in takes each one's place on the
   * replacement thread. Supervised ones count as crashed, except while their circuit is open.
   */
  threadLost(node: number): void {
    for (const a of this.asks) if (a.expected === undefined && a.node === node) a.expected = { err: 'ERR_WORKER_LOST' };
    for (const c of this.kids) {
      if (c.node !== node) continue;
      c.queue = [];
      if (c.status === 'circuit-open') {
        // Nothing was running, so nothing crashed: the stand-in fails fast until the trial, which it then takes.
        const b = c.breaker!;
        c.phase = 'open';
        c.cellRetryAt = b.phase === 'open' && this.now < b.openedAt + b.resetTimeout ? b.openedAt + b.resetTimeout : this.now;
        continue;
      }
      c.phase = 'restarting'; // the stand-in, waiting for the decision
      this.decide(c, c.status === 'half-open', '$exit'); // losing the trial incarnation fails the trial
    }
    this.processAll();
  }

  /** Future instants where something changes: timers, intensity windows sliding, backoff streaks ending. */
  edges(): number[] {
    const out = new Set<number>();
    for (const c of this.kids) {
      if (c.timer) out.add(c.timer.at);
      for (const s of c.stamps) out.add(s + this.cfg.withinMs);
      if (c.restartedAt !== undefined) out.add(c.restartedAt + this.cfg.resetAfterMs);
    }
    return [...out].filter((t) => t > this.now).sort((a, b) => a - b);
  }

  // -- what the supervisor and the child's thread do --

  private process(c: ModelChild): void {
    while ((c.phase === 'running' || c.phase === 'trial') && c.queue.length > 0) {
      const { op, ask } = c.queue.shift()!;
      const trial = c.phase === 'trial';
      if (op.t === 'crash') {
        this.deadLetters.crashed++;
        this.settle(ask, { err: 'ERR_ACTOR_CRASHED' });
        c.phase = 'restarting';
        this.decide(c, trial, 'crash');
        continue;
      }
      if (op.t === 'add') c.count += op.n;
      else this.settle(ask, { ok: c.count });
      if (trial) {
        // The trial succeeded: circuit closed with its base open time, intensity and backoff start afresh.
        c.phase = 'running';
        c.status = 'running';
        c.breaker!.phase = 'closed';
        c.breaker!.resetTimeout = this.cfg.resetMs;
        c.stamps = [];
        c.attempt = 0;
        c.restartedAt = undefined;
      }
    }
  }

  private decide(c: ModelChild, trial: boolean, messageType: string): void {
    const now = this.now;
    const report = (decision: string, delayMs?: number) => {
      const r: ExpectedReport = { decision, messageType, restartCount: c.restarts, at: now };
      if (delayMs !== undefined) r.delayMs = delayMs;
      this.reports[c.id].push(r);
    };
    const b = c.breaker;
    if (trial && b) {
      b.resetTimeout = Math.min(this.cfg.maxResetMs, b.resetTimeout * this.cfg.multiplier);
      this.open(b);
      report('reopen-circuit');
      return this.openCircuit(c);
    }
    // Sliding window, inclusive at its old end (OTP); counted per child in 'open-circuit' mode.
    c.stamps = c.stamps.filter((s) => s >= now - this.cfg.withinMs);
    c.stamps.push(now);
    if (c.stamps.length > this.cfg.maxRestarts) {
      const br = (c.breaker ??= { phase: 'closed', openedAt: 0, resetTimeout: this.cfg.resetMs, trips: 0 });
      if (br.phase === 'closed') this.open(br);
      report('open-circuit');
      return this.openCircuit(c);
    }
    // Akka backoff with randomFactor 0: min(max, min * 2^k); a quiet period since the last restart resets k.
    if (c.restartedAt !== undefined && now - c.restartedAt >= this.cfg.resetAfterMs) c.attempt = 0;
    const delay = this.cfg.backoffMinMs === 0 ? 0 : Math.min(this.cfg.backoffMaxMs, this.cfg.backoffMinMs * 2 ** c.attempt);
    c.attempt++;
    c.restartedAt = now + delay;
    report('restart', delay);
    c.restarts++;
    c.status = 'restarting';
    c.phase = 'restarting';
    // One pending restart per child: a newer decision replaces an older one.
    if (delay > 0) c.timer = { at: now + delay, seq: ++this.seq, kind: 'restart' };
    else {
      c.timer = undefined;
      this.restartNow(c);
    }
  }

  private open(b: Breaker): void {
    b.phase = 'open';
    b.openedAt = this.now;
    b.trips++;
  }

  private openCircuit(c: ModelChild): void {
    const now = this.now;
    const b = c.breaker!;
    const retryAt = b.phase === 'open' && now < b.openedAt + b.resetTimeout ? b.openedAt + b.resetTimeout : now;
    c.status = 'circuit-open';
    c.phase = 'open';
    c.cellRetryAt = retryAt; // in the supervisor's clock, on whatever thread
    const err = this.circuitOpenError(c);
    for (const m of c.queue) {
      this.deadLetters['circuit-open']++;
      this.settle(m.ask, err);
    }
    c.queue = [];
    c.timer = { at: retryAt, seq: ++this.seq, kind: 'circuit' };
  }

  private fire(c: ModelChild): void {
    const kind = c.timer!.kind;
    c.timer = undefined;
    if (kind === 'restart') {
      if (c.status === 'restarting') this.restartNow(c);
      return;
    }
    const b = c.breaker!;
    if (c.status !== 'circuit-open' || !(b.phase === 'open' && this.now >= b.openedAt + b.resetTimeout)) return;
    b.phase = 'trial';
    c.status = 'half-open';
    c.phase = 'half-open';
    c.count = 0;
  }

  /** A new incarnation: initial state, same mailbox (its stand-in's, if it was lost with its thread). */
  private restartNow(c: ModelChild): void {
    c.status = 'running';
    c.phase = 'running';
    c.count = 0;
  }

  private circuitOpenError(c: ModelChild): Outcome {
    return { err: 'ERR_CIRCUIT_OPEN', retryInMs: Math.max(0, Math.round(c.cellRetryAt - this.now)), phase: c.phase };
  }

  private settle(ask: AskRec | undefined, outcome: Outcome): void {
    if (ask !== undefined && ask.expected === undefined) ask.expected = outcome;
  }

  // -- what must be observable --

  children() {
    return this.kids.map((c) => {
      const info: Record<string, unknown> = { id: c.id, type: 'actor', status: c.status, restarts: c.restarts, node: c.node };
      const b = c.breaker;
      if (b) {
        const due = b.phase === 'open' && this.now >= b.openedAt + b.resetTimeout;
        const state = b.phase === 'closed' ? 'closed' : b.phase === 'trial' || due ? 'half-open' : 'open';
        const snap: Record<string, unknown> = { state, resetTimeoutMs: b.resetTimeout, trips: b.trips };
        if (state === 'open') snap.retryAt = b.openedAt + b.resetTimeout;
        info.circuit = snap;
      }
      return info;
    });
  }

  phases(): Record<string, string> {
    return Object.fromEntries(this.kids.map((c) => [c.id, c.phase]));
  }
}

// ---- the real thing ------------------------------------------------------------------------------------------------

interface Real {
  rt: Runtime;
  clock: ManualClock;
  sup: Supervisor;
  workers: number;
  reports: CrashReport[];
  bombs: Map<number, ActorRef<typeof flaky>>;
  bombPrefix: string;
}

function outcomeOf(err: unknown): Outcome {
  const e = err as { code?: string; details?: { retryInMs?: number; phase?: string } };
  const o: Outcome = { err: e?.code ?? String(err) };
  if (e?.details?.retryInMs !== undefined) o.retryInMs = e.details.retryInMs;
  if (e?.details?.phase !== undefined) o.phase = e.details.phase;
  return o;
}

function track(rec: AskRec, p: Promise<unknown>): void {
  p.then(
    (v) => (rec.actual = { ok: typeof v === 'number' ? v : -1 }),
    (e: unknown) => (rec.actual = outcomeOf(e)),
  );
}

/** Both sides, as comparable plain data. */
async function views(m: Model, r: Real): Promise<{ expected: unknown; actual: unknown }> {
  const threads = r.workers > 0;
  const hint = (o: Outcome | undefined): Outcome | 'pending' => o ?? 'pending';
  const ids = new Set(m.kids.map((k) => k.id));
  const reports: Record<string, ExpectedReport[]> = Object.fromEntries(m.kids.map((k) => [k.id, []]));
  for (const c of r.reports) {
    if (c.supervisor !== r.sup.id || !ids.has(c.actorId)) continue;
    const e: ExpectedReport = { decision: c.decision, messageType: c.messageType, restartCount: c.restartCount, at: c.at };
    if (c.delayMs !== undefined) e.delayMs = c.delayMs;
    reports[c.actorId].push(e);
  }
  const stats = await r.rt.stats({ actors: true });
  const phases: Record<string, string> = Object.fromEntries(m.kids.map((k) => [k.id, 'absent']));
  for (const n of stats.nodes) for (const a of n.actors) if (ids.has(a.id)) phases[a.id] = a.phase;
  const expected: Record<string, unknown> = { children: m.children(), reports: m.reports, asks: m.asks.map((a) => hint(a.expected)), phases: m.phases() };
  const actual: Record<string, unknown> = { children: r.sup.children(), reports, asks: m.asks.map((a) => hint(a.actual)), phases };
  if (!threads) {
    // Dead letters are counted per thread, and a lost thread takes its counts along: compared on one thread only.
    expected.deadLetters = m.deadLetters;
    actual.deadLetters = { crashed: stats.deadLetters.crashed ?? 0, 'circuit-open': stats.deadLetters['circuit-open'] ?? 0 };
  }
  return { expected, actual };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wait (bounded) until the runtime shows what the model says, then check that it still does a few times over (each
 * look includes a stats round trip to every worker, which follows whatever was sent to it before): a late extra
 * restart, reply or report, or a chain of hops that had not finished yet, shows up as a difference.
 */
async function agree(m: Model, r: Real): Promise<void> {
  const limit = Date.now() + (r.workers > 0 ? 3000 : 100); // one thread settles within a few turns
  let streak = 0;
  for (let i = 0; streak < 3; i++) {
    if (i < 5 || r.workers === 0) await turn();
    else await sleep(2);
    const { expected, actual } = await views(m, r);
    if (isDeepStrictEqual(actual, expected)) streak++;
    else if (streak > 0 || Date.now() > limit) expect(actual).toEqual(expected);
  }
}

// ---- commands ------------------------------------------------------------------------------------------------------

const describeOp = (op: Op) => (op.t === 'add' ? `${op.acked ? 'send' : 'tell'} add ${op.n}` : op.t === 'get' ? 'ask get' : 'ask crash');

/** Send a burst of messages to one child without waiting in between (they reach its thread in one batch). */
class Send implements fc.AsyncCommand<Model, Real> {
  constructor(readonly child: number, readonly ops: Op[]) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const c = m.kids[this.child % m.kids.length];
    const ref = r.sup.ref<typeof flaky>(c.id)!;
    for (const op of this.ops) {
      const rec = m.deliver(c, op);
      if (op.t === 'add' && !op.acked) r.rt.tell(ref, 'add', op.n);
      else if (op.t === 'add') track(rec!, r.rt.send(ref, 'add', op.n));
      else if (op.t === 'get') track(rec!, r.rt.ask(ref, 'get'));
      else track(rec!, r.rt.ask(ref, 'crash', 'boom'));
    }
    m.processAll();
    await agree(m, r);
  }
  toString = () => `send(c${this.child}: ${this.ops.map(describeOp).join(', ')})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    m.advance(this.ms);
    r.clock.advance(this.ms);
    await agree(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

/** Advance to just before, exactly at, or just after an instant where something changes (see Model.edges). */
class AdvanceToEdge implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly delta: -1 | 0 | 1) {}
  check = (m: Readonly<Model>) => m.edges().some((t) => t - m.now + this.delta > 0);
  async run(m: Model, r: Real): Promise<void> {
    const edges = m.edges().filter((t) => t - m.now + this.delta > 0);
    const ms = edges[this.pick % edges.length] - m.now + this.delta;
    m.advance(ms);
    r.clock.advance(ms);
    await agree(m, r);
  }
  // The amount depends on the model's state, so it is not shown (the same command object is reused while shrinking).
  toString = () => `advanceToEdge(${this.pick}, ${this.delta})`;
}

/** A handler on worker `node` calls process.exit: the thread dies and is replaced. */
class KillThread implements fc.AsyncCommand<Model, Real> {
  constructor(readonly node: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const bomb = r.bombs.get(this.node)!;
    const died = await r.rt.ask(bomb, 'die').then(() => 'answered', (e: unknown) => (e as { code?: string }).code);
    expect(died).toBe('ERR_WORKER_LOST');
    m.threadLost(this.node);
    r.bombs.set(this.node, await spawnBomb(r, this.node));
    await agree(m, r);
  }
  toString = () => `killThread(${this.node})`;
}

/** An unsupervised actor on `node` to pull the trigger with; spawned again once its thread is back. */
async function spawnBomb(r: Real, node: number): Promise<ActorRef<typeof flaky>> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await r.rt.spawn(flaky, { id: `${r.bombPrefix}${node}`, pin: node });
    } catch (err) {
      // The thread is being replaced. If it never comes back, the shared runtime is broken for every later run.
      if (Date.now() > end) throw new Error(`thread ${node} was not replaced within 10 s`, { cause: err });
      await sleep(5);
    }
  }
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('add' as const), n: fc.integer({ min: 1, max: 9 }), acked: fc.boolean() }),
  fc.constant({ t: 'get' as const }),
  fc.constant({ t: 'crash' as const }),
);

function commandArbs(children: number, threads: number[]): fc.Arbitrary<fc.AsyncCommand<Model, Real>>[] {
  const child = fc.nat({ max: children - 1 });
  const weighted: [number, fc.Arbitrary<fc.AsyncCommand<Model, Real>>][] = [
    [3, child.map((c) => new Send(c, [{ t: 'crash' }]))],
    [3, fc.tuple(child, fc.array(opArb, { minLength: 1, maxLength: 4 })).map(([c, ops]) => new Send(c, ops))],
    [1, child.map((c) => new Send(c, [{ t: 'get' }]))],
    [1, fc.integer({ min: 1, max: 1500 }).map((ms) => new Advance(ms))],
    // Long enough for an ask held in a stash to time out (its message is still handled; the late reply dropped).
    [1, fc.constantFrom(4999, 5000, 7000).map((ms) => new Advance(ms))],
    [2, fc.tuple(fc.nat({ max: 5 }), fc.constantFrom(-1 as const, 0 as const, 1 as const)).map(([p, d]) => new AdvanceToEdge(p, d))],
  ];
  if (threads.length > 0) weighted.push([2, fc.constantFrom(...threads).map((n) => new KillThread(n))]);
  // fc.commands picks uniformly among its arbitraries: repeat them to weight them.
  return weighted.flatMap(([w, arb]) => Array.from({ length: w }, () => arb));
}

function supervisorSpec(id: string, cfg: Config, children: { id: string; node: number }[]) {
  return {
    id,
    strategy: 'one-for-one' as const,
    onExhausted: 'open-circuit' as const,
    intensity: { maxRestarts: cfg.maxRestarts, withinMs: cfg.withinMs },
    backoff: { minMs: cfg.backoffMinMs, maxMs: cfg.backoffMaxMs, randomFactor: 0, resetAfterMs: cfg.resetAfterMs },
    circuit: { resetMs: cfg.resetMs, maxResetMs: cfg.maxResetMs, multiplier: cfg.multiplier },
    children: children.map(({ id: cid, node }) => ({ id: cid, actor: flaky, args: { tag: cid }, pin: node, shutdown: 'kill' as const })),
  };
}

// ---- the properties ------------------------------------------------------------------------------------------------

describe('supervision agrees with its model (open-circuit mode, injected clock)', () => {
  it('one thread: crashes, mail during backoff, circuits, trials and time', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.commands(commandArbs(2, []), { maxCommands: 25, size: 'max', ...(REPLAY ? { replayPath: REPLAY } : {}) }), async (cfg, cmds) => {
        const clock = new ManualClock();
        const rt = await Runtime.start({ workers: 0, clock, random: () => 0, stallMs: 0 });
        try {
          const children = ['a', 'b'].map((id) => ({ id, node: 0 }));
          const real: Real = { rt, clock, workers: 0, reports: [], bombs: new Map(), bombPrefix: '', sup: undefined as never };
          rt.onCrash((c) => real.reports.push(c));
          real.sup = await rt.supervise(supervisorSpec('root', cfg, children));
          const model = new Model(cfg, clock.now(), children);
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await rt.shutdown();
        }
      }),
      assertOptions(RUNS),
    );
  }, 120_000 + RUNS * 1000); // generous, so that shrinking a failure can finish and print it

  describe('two worker threads', () => {
    // One runtime for every run (booting two threads per run would dominate); each run gets its own supervisor.
    const clock = new ManualClock();
    let rt: Runtime;
    let run = 0;
    beforeAll(async () => {
      rt = await Runtime.start({ workers: 2, clock, random: () => 0, stallMs: 0 });
    });
    afterAll(() => rt?.shutdown());

    it('threads lost under children in every state', async () => {
      await fc.assert(
        fc.asyncProperty(configArb, fc.commands(commandArbs(4, [1, 2]), { maxCommands: 20, size: 'max', ...(REPLAY ? { replayPath: REPLAY } : {}) }), async (cfg, cmds) => {
          const n = ++run;
          const children = [0, 1, 1, 2].map((node, i) => ({ id: `r${n}-${'abcd'[i]}`, node }));
          const real: Real = { rt, clock, workers: 2, reports: [], bombs: new Map(), bombPrefix: `r${n}-bomb-`, sup: undefined as never };
          const off = rt.onCrash((c) => real.reports.push(c));
          try {
            for (const node of [1, 2]) real.bombs.set(node, await spawnBomb(real, node));
            real.sup = await rt.supervise(supervisorSpec(`r${n}`, cfg, children));
            const model = new Model(cfg, clock.now(), children);
            await fc.asyncModelRun(() => ({ model, real }), cmds);
          } finally {
            off();
            await real.sup?.stop();
            for (const b of real.bombs.values()) await rt.stop(b);
          }
        }),
        assertOptions(WORKER_RUNS),
      );
    }, 180_000 + WORKER_RUNS * 10_000);
  });
});
