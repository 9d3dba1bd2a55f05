import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime/runtime.ts';
import { DEFAULT_ASK_TIMEOUT_MS } from '../runtime/host.ts';
import { AskTimeoutError } from '../runtime/errors.ts';
import type { ActorDefinition, ActorRef, Address, AnyActorDefinition, AskArgs, MessageType, PayloadArgs, Reply, SendArgs, SendReceipt } from '../actors/define.ts';
import type { SpawnOptions } from '../actors/context.ts';
import type { CrashReport, Supervisor } from '../supervisors/supervisor.ts';
import type { SupervisorSpec } from '../supervisors/spec.ts';
import type { DeadLetter } from '../runtime/stats.ts';
import { InjectedFaultError, InvalidSimulationOptionError, NondeterminismError, SimulationStoppedError, UnknownFaultTargetError } from './errors.ts';
import { checkTargets, validatePlan, type Fault, type FaultPlan } from './faults.ts';
import { SeededRandom } from './random.ts';
import { SimLoop } from './loop.ts';
import { show, Trace } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';
import { DeterminismGuard, nondeterminism, realSetImmediate } from './determinism.ts';
import { Instrumentation, type HandledMessage } from './instrument.ts';
import { StoreFaults } from './store-faults.ts';

/** Microtask hops a step's consequences get before the next step (see settle). */
const MICROTASK_DEPTH = 6;

export interface SimulationOptions {
  /** Every choice of the run comes from this seed: the same seed (and plan) replays the same run. */
  seed: number;
  /** Faults to inject (testkit/faults.ts). Every actor named must exist once `setup` has run. */
  faults?: FaultPlan;
  /** Steps a run may take before StepBudgetExceededError (default 1,000,000). */
  maxSteps?: number;
  /** Virtual time a run may reach before TimeBudgetExceededError (default 24 h). */
  maxVirtualMs?: number;
  /** Each message lands up to this many virtual ms after it is sent, drawn from the seed (default 0). */
  maxDeliveryDelayMs?: number;
  /** Real LMDB in a temporary directory (removed by stop()), or in `dataDir` (kept). */
  durable?: boolean | { dataDir: string };
  /** Builds the system: run at start and again after every simulated crash of the whole system. */
  setup?: (sim: Simulation) => Promise<void>;
  /** Trace events kept for the timeline (the hash covers all of them; default 10,000). */
  traceKeep?: number;
}

/**
 * A Troupe system in simulation: the user's definitions and supervision trees, unchanged, on one thread
 * (Runtime.start({ workers: 0 })), under a virtual clock and a seeded scheduler (testkit/loop.ts). Nothing moves
 * between calls: advance(), runUntilIdle() and until() take the steps.
 */
export class Simulation {
  readonly clock = new VirtualClock();
  readonly trace: Trace;
  readonly seed: number;
  readonly plan: FaultPlan;
  /** Crash reports of every incarnation of the system, in order. */
  readonly crashes: CrashReport[] = [];
  readonly deadLetters: DeadLetter[] = [];
  /** System crashes injected so far. */
  systemCrashes = 0;
  private rt!: Runtime;
  private readonly loop: SimLoop;
  private readonly rng: SeededRandom;
  private readonly delays: SeededRandom;
  private readonly instrument: Instrumentation;
  private readonly guard: DeterminismGuard;
  private readonly violations: NondeterminismError[] = [];
  private readonly dataDir: string | undefined;
  private readonly ownDir: boolean;
  private readonly storeFaults: StoreFaults;
  private incarnation = 0;
  private checked = false;
  /** A crash-system fault landed: the system dies at the end of this step. */
  private crashDue = false;
  private stopped = false;
  private readonly pending = new Set<(err: Error) => void>();
  /** Messages landed since the system last started, per `<to> '<type>'` (invariants.ts, nothingLost). */
  private landed = new Map<string, number>();
  private deadLettersAtStart = 0;

  private constructor(private readonly options: SimulationOptions) {
    if (!Number.isInteger(options.seed)) throw new InvalidSimulationOptionError(`seed must be an integer (got ${String(options.seed)})`);
    for (const k of ['maxSteps', 'maxVirtualMs', 'maxDeliveryDelayMs'] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new InvalidSimulationOptionError(`${k} must be a non-negative number (got ${String(v)})`);
    }
    this.seed = options.seed;
    this.plan = validatePlan(options.faults ?? []);
    this.rng = new SeededRandom(options.seed);
    this.delays = this.rng.fork(1);
    this.trace = new Trace(options.traceKeep);
    this.instrument = new Instrumentation(this, this.plan);
    this.storeFaults = new StoreFaults(this.plan, (detail) => this.record('fault', 'store', detail));
    const userRandom = this.rng.fork(2);
    this.guard = new DeterminismGuard(() => userRandom.next(), () => this.instrument.current, (err) => this.violations.push(err));
    this.loop = new SimLoop(this.clock, this.rng.fork(3), {
      maxSteps: options.maxSteps ?? 1_000_000,
      maxVirtualMs: options.maxVirtualMs ?? 86_400_000,
    }, this.trace, () => this.settle(), () => new Promise<void>((r) => realSetImmediate(r)), () => this.guard.install());
    const d = options.durable;
    this.ownDir = d === true;
    this.dataDir = d === true ? mkdtempSync(join(tmpdir(), 'troupe-sim-')) : d ? d.dataDir : undefined;
  }

  static async start(options: SimulationOptions): Promise<Simulation> {
    if (typeof options !== 'object' || options === null) throw new InvalidSimulationOptionError('Simulation.start expects options with a seed');
    const sim = new Simulation(options);
    await sim.boot();
    // Taken at the end of the step in which it lands (settle), so the crash happens between two steps.
    for (const f of sim.plan) if (f.kind === 'crash-system') sim.loop.deliver('sim', 'system', `crash-system at ${f.atMs} ms`, f.atMs, () => void (sim.crashDue = true));
    return sim;
  }

  // ---- the system -------------------------------------------------------------------------------------------------

  /** The real runtime under simulation (stats, inspect, supervisors...): call what resolves by itself, or use until(). */
  get runtime(): Runtime {
    return this.rt;
  }
  get now(): number {
    return this.clock.now();
  }
  get steps(): number {
    return this.loop.steps;
  }
  /** Every message a handler started on, in order, over every incarnation of the system. */
  get handled(): readonly HandledMessage[] {
    return this.instrument.handled;
  }

  private async boot(): Promise<void> {
    const inc = ++this.incarnation;
    const choose = this.rng.fork(10 + inc);
    const jitter = this.rng.fork(100 + inc);
    this.rt = await Runtime.start({
      workers: 0,
      clock: this.clock,
      defer: (fn) => {
        if (inc === this.incarnation) this.loop.defer(fn);
      },
      scheduling: { turnBudget: 1, slice: 1, pick: (n) => choose.int(n) },
      random: () => jitter.next(),
      stallMs: 0,
      spareWorker: false,
      metrics: false,
      dataDir: this.dataDir,
    });
    this.storeFaults.attach(this.rt);
    this.rt.onCrash((c) => {
      this.crashes.push(c);
      this.record('crash', c.actorId, `on '${c.messageType}': ${c.error.message} -> ${c.decision}${c.delayMs ? ` in ${c.delayMs} ms` : ''}`);
    });
    this.rt.onDeadLetter((l) => {
      this.deadLetters.push(l);
      this.record('dead-letter', l.to, `'${l.type}' from ${l.from || 'test'}: ${l.reason}`);
    });
    if (this.options.setup !== undefined) await this.options.setup(this);
  }

  /** Kill the whole system at this instant (nothing more reaches the store) and start it again from the store. */
  async crashSystem(): Promise<void> {
    this.systemCrashes++;
    const lost = this.loop.clear();
    this.record('system', 'system', `crash: ${lost} message(s) in flight lost; restart from the store`);
    const old = this.rt;
    this.incarnation++; // the old runtime never runs again: its turns and timers are gone
    for (const reject of this.pending) reject(new InjectedFaultError('the system crashed before this completed'));
    this.pending.clear();
    await old['host'].closeStore();
    this.instrument.systemRestarted();
    this.landed = new Map();
    this.deadLettersAtStart = this.deadLetters.length;
    this.incarnation--;
    await this.boot();
  }

  // ---- building the system ------------------------------------------------------------------------------------------

  /** Spawn as runtime.spawn does (its id defaults to `<kind>-<n>`, so runs stay reproducible). */
  spawn<D extends ActorDefinition>(definition: D, options: SpawnOptions<D> = {}): Promise<ActorRef<D>> {
    const id = options.id ?? this.instrument.nextId(definition.kind);
    return this.settleOn(this.rt.spawn(this.instrument.wrap(definition, id), { ...options, id }), false);
  }

  /** Start a supervision tree of the user's definitions (wrapped per child for faults and tracing). */
  supervise(spec: SupervisorSpec): Promise<Supervisor> {
    return this.settleOn(this.rt.supervise(this.instrument.wrapTree(spec)), false);
  }

  // ---- the test's messages: each lands in a step of its own, in order per receiver -----------------------------------

  tell<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...payload: PayloadArgs<D, K>): void;
  tell(ref: ActorRef, type: string, payload?: unknown): void {
    this.live();
    this.dispatch('test', ref, type, payload, () => this.rt.tell(ref, type as never, payload as never));
  }

  ask<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>>;
  ask(ref: ActorRef, type: string, payload?: unknown, options?: { timeoutMs?: number }): Promise<unknown> {
    return this.later('test', ref, type, payload, () => this.rt.ask(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  send<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: SendArgs<D, K>): Promise<SendReceipt>;
  send(ref: ActorRef, type: string, payload?: unknown, options?: { messageId?: string; timeoutMs?: number }): Promise<unknown> {
    return this.later('test', ref, type, payload, () => this.rt.send(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  /** The ref of a running actor by id (refs are plain data; the simulation's actors all live on thread 0). */
  ref<D extends ActorDefinition = AnyActorDefinition>(id: string): ActorRef<D> {
    const reg = this.rt['registry'].get(id);
    if (reg === undefined || reg.node < 0) throw new UnknownFaultTargetError(`no running actor '${id}' in the simulation`, { details: { actor: id } });
    return Object.freeze({ id, kind: reg.kind, node: reg.node }) as ActorRef<D>;
  }

  /** ask, then run until it settles. */
  call<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>> {
    return this.until((this.ask as (r: unknown, t: unknown, ...a: unknown[]) => Promise<Reply<D, K>>)(ref, type, ...args));
  }

  /** A message from `from` (an actor id or 'test'), landing in a step of its own (instrument.ts routes ctx messages here). */
  dispatch(from: string, ref: ActorRef, type: string, payload: unknown, land: () => void): void {
    const delay = this.deliveryDelay(from, ref.id);
    const key = `${ref.id} '${type}'`;
    this.loop.deliver(from, ref.id, `${type} ${show(payload)}`, delay, () => {
      this.landed.set(key, (this.landed.get(key) ?? 0) + 1);
      land();
    });
  }

  /** Like dispatch, for a message whose sender waits on a promise (ask, send). */
  later<T>(from: string, ref: ActorRef, type: string, payload: unknown, land: () => Promise<T>, timeoutMs = DEFAULT_ASK_TIMEOUT_MS): Promise<T> {
    this.live();
    return new Promise<T>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.pending.add(fail);
      const inc = this.incarnation;
      // The sender's timeout counts from the send, the time the message spends on its way included (the runtime's
      // own timer, armed when it lands, fires later and finds the ask already answered).
      const timer = this.clock.setTimer(() => {
        if (inc === this.incarnation && this.pending.delete(fail)) reject(new AskTimeoutError('ask timed out'));
      }, timeoutMs);
      this.dispatch(from, ref, type, payload, () => {
        land().then(
          (v) => {
            if (inc === this.incarnation && this.pending.delete(fail)) {
              this.clock.clearTimer(timer);
              this.record('reply', `${ref.id}>${from}`, `${type} -> ${show(v)}`);
              resolve(v);
            }
          },
          (e: unknown) => {
            if (inc === this.incarnation && this.pending.delete(fail)) {
              this.clock.clearTimer(timer);
              this.record('reply', `${ref.id}>${from}`, `${type} -> ${(e as { code?: string })?.code ?? 'error'}`);
              reject(e);
            }
          },
        );
      });
    });
  }

  private deliveryDelay(from: string, to: string): number {
    let ms = 0;
    for (const f of this.plan) if (f.kind === 'delay' && (f.to === undefined || f.to === to) && (f.from === undefined || f.from === from)) ms += f.ms;
    const max = this.options.maxDeliveryDelayMs ?? 0;
    return max > 0 ? ms + this.delays.range(0, max) : ms;
  }

  // ---- running ----------------------------------------------------------------------------------------------------

  /** Run everything due within the next `ms` of virtual time; time is then `now + ms`. */
  async advance(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new InvalidSimulationOptionError(`advance(ms): ms must be a non-negative number (got ${String(ms)})`);
    await this.run(this.clock.now() + ms);
  }

  /** Run until nothing is left to do: no message in flight or in a mailbox, no timer armed. */
  async runUntilIdle(): Promise<void> {
    await this.run(undefined);
    this.instrument.checkStuck();
    this.throwViolation();
  }

  /** Run until `promise` settles, then return its outcome. */
  until<T>(promise: Promise<T>): Promise<T> {
    return this.settleOn(promise, true);
  }

  /** until(); `check`: this run is the test's, so the plan's targets must exist by now (not while building). */
  private async settleOn<T>(promise: Promise<T>, check: boolean): Promise<T> {
    let settled = false;
    const watched = promise.then(
      (v) => ((settled = true), v),
      (e: unknown) => {
        settled = true;
        throw e;
      },
    );
    watched.catch(() => undefined);
    await new Promise<void>((r) => realSetImmediate(r));
    if (!settled) await this.run(undefined, () => settled, check);
    if (!settled) {
      this.instrument.checkStuck();
      throw new InvalidSimulationOptionError('until(): the simulation went idle and the promise never settled (it waits on something outside the simulation)');
    }
    return watched;
  }

  private async run(limit: number | undefined, stop?: () => boolean, check = true): Promise<void> {
    this.live();
    if (check && !this.checked) {
      checkTargets(this.plan, this.instrument.known);
      this.checked = true;
    }
    try {
      await this.loop.run(limit, () => this.violations.length > 0 || (stop?.() ?? false));
    } finally {
      this.guard.uninstall();
    }
    this.throwViolation();
  }

  private throwViolation(): void {
    if (this.violations.length > 0) throw this.violations[0];
  }

  /** Report something a handler did that escapes the simulation (instrument.ts). */
  violation(api: string, where: string): void {
    this.violations.push(nondeterminism(api, where));
  }

  get inStep(): boolean {
    return this.loop.inStep;
  }

  /** Everything one step set off: microtasks, and durable writes until they are on disk. */
  private async settle(): Promise<void> {
    await this.settleStep();
    if (this.crashDue) {
      this.crashDue = false;
      await this.crashSystem();
    }
  }

  private async settleStep(): Promise<void> {
    const host = this.rt['host'];
    if (!host.storeOpen) {
      // The microtasks a step sets off (replies, async handlers resuming), up to a depth: cheaper than a turn of the
      // event loop per step, and as deterministic (nothing outside the simulation runs in between). Anything deeper
      // runs during the next steps, and all of it before time moves or the run ends (SimLoop.run).
      for (let i = 0; i < MICROTASK_DEPTH; i++) await undefined;
      return;
    }
    await new Promise<void>((r) => realSetImmediate(r));
    for (let i = 0; i < 100 && host.storeOpen; i++) {
      const store = host.store();
      const commits = store.commitCount;
      await store.settled();
      await new Promise<void>((r) => realSetImmediate(r));
      if (store.commitCount === commits && store.openBatch === undefined) break;
    }
  }

  record(what: string, actor: string, detail: string): void {
    this.trace.record({ step: this.loop.steps, at: this.clock.now(), what, actor, detail });
  }

  /** The trace's hash: equal for equal runs. */
  hash(): string {
    return this.trace.digest();
  }

  timeline(): string {
    return this.trace.timeline();
  }

  /** The committed state of an actor (runtime.inspect). */
  async state<S = unknown>(id: string): Promise<S | undefined> {
    return (await this.until(this.rt.inspect(id, { state: true })))?.state as S | undefined;
  }

  private live(): void {
    if (this.stopped) throw new SimulationStoppedError('the simulation is stopped');
  }

  /** Shut the runtime down (its supervision trees stop by their policies, in simulated time) and remove a temp store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // Stopping gets budgets of its own (a run that just exceeded its budget must still shut down), and a violation
    // already reported does not fail the shutdown.
    this.violations.length = 0;
    this.loop.budgets.maxSteps = this.loop.steps + 100_000;
    this.loop.budgets.maxVirtualMs = Math.max(this.loop.budgets.maxVirtualMs, this.clock.now() + 3_600_000);
    try {
      await this.settleOn(this.rt.shutdown(), false);
    } finally {
      this.stopped = true;
      this.guard.uninstall();
      if (this.ownDir && this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  landedSinceStart(): ReadonlyMap<string, number> {
    return this.landed;
  }
  deadLettersSinceStart(): readonly DeadLetter[] {
    return this.deadLetters.slice(this.deadLettersAtStart);
  }

  /** Faults of the plan (for helpers). */
  faultsOf(kind: Fault['kind']): Fault[] {
    return this.plan.filter((f) => f.kind === kind);
  }
}
