import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime/runtime.ts';
import type { ActorDefinition, ActorRef, Address, AnyActorDefinition, AskArgs, MessageType, PayloadArgs, Reply, SendArgs, SendReceipt } from '../actors/define.ts';
import type { SpawnOptions } from '../actors/context.ts';
import type { CrashReport, Supervisor } from '../supervisors/supervisor.ts';
import type { SupervisorSpec } from '../supervisors/spec.ts';
import type { DeadLetter } from '../runtime/stats.ts';
import { InvalidSimulationOptionError, NondeterminismError, SimulationStoppedError, UnknownFaultTargetError } from './errors.ts';
import { checkTargets, checkThreads, validatePlan, type Fault, type FaultPlan } from './faults.ts';
import { validateOptions, type SimulationOptions } from './options.ts';
import { SeededRandom } from './random.ts';
import { SimLoop } from './loop.ts';
import { Trace } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';
import { DeterminismGuard, nondeterminism, realSetImmediate } from './determinism.ts';
import { Instrumentation, type HandledMessage } from './instrument.ts';
import { StoreFaults } from './store-faults.ts';
import { SimStores } from './stores.ts';
import { Deliveries } from './deliveries.ts';
import type { SimThreads } from './sim-threads.ts';
import { simulatedRuntime } from './runtime-options.ts';

export type { SimulationOptions } from './options.ts';

/**
 * A Troupe system in simulation: the user's definitions and supervision trees, unchanged, on a real Runtime under a
 * virtual clock and a seeded scheduler (testkit/loop.ts), on the main thread or on simulated worker threads
 * (testkit/sim-threads.ts), all in one real thread. Nothing moves between calls: advance(), runUntilIdle() and
 * until() take the steps.
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
  /** Simulated threads lost so far (faults and loseThread()). */
  threadsLost = 0;
  private rt!: Runtime;
  private readonly loop: SimLoop;
  private readonly rng: SeededRandom;
  private readonly instrument: Instrumentation;
  private readonly guard: DeterminismGuard;
  private readonly violations: Error[] = [];
  private readonly dataDir: string | undefined;
  private readonly ownDir: boolean;
  private readonly stores: SimStores;
  private readonly deliveries: Deliveries;
  private threads: SimThreads | undefined;
  private incarnation = 0;
  private checked = false;
  /** A crash-system fault landed: the system dies at the end of this step. */
  private crashDue = false;
  private stopped = false;
  private deadLettersAtStart = 0;

  private constructor(private readonly options: SimulationOptions) {
    validateOptions(options);
    this.seed = options.seed;
    this.plan = validatePlan(options.faults ?? []);
    this.rng = new SeededRandom(options.seed);
    this.trace = new Trace(options.traceKeep);
    this.instrument = new Instrumentation(this, this.plan);
    this.stores = new SimStores(new StoreFaults(this.plan, (detail) => this.record('fault', 'store', detail)));
    const userRandom = this.rng.fork(2);
    this.guard = new DeterminismGuard(() => userRandom.next(), () => this.instrument.current, (err) => this.violations.push(err));
    this.loop = new SimLoop(this.clock, this.rng.fork(3), {
      maxSteps: options.maxSteps ?? 1_000_000,
      maxVirtualMs: options.maxVirtualMs ?? 86_400_000,
    }, this.trace, () => this.settle(), () => new Promise<void>((r) => realSetImmediate(r)), () => this.guard.install());
    this.deliveries = new Deliveries(this.loop, this.clock, this.plan, this.rng.fork(1), options.maxDeliveryDelayMs ?? 0, (w, a, d) => this.record(w, a, d));
    const d = options.durable;
    this.ownDir = d === true;
    this.dataDir = d === true ? mkdtempSync(join(tmpdir(), 'troupe-sim-')) : d ? d.dataDir : undefined;
  }

  static async start(options: SimulationOptions): Promise<Simulation> {
    validateOptions(options);
    const sim = new Simulation(options);
    checkThreads(sim.plan, options.threads ?? 0);
    await sim.boot();
    // Taken at the end of the step in which it lands (settle), so the crash happens between two steps.
    for (const f of sim.plan) if (f.kind === 'crash-system') sim.loop.deliver('sim', 'system', `crash-system at ${f.atMs} ms`, f.atMs, () => void (sim.crashDue = true));
    sim.plan.forEach((f, i) => {
      if (f.kind === 'lose-thread' && 'thread' in f) sim.loop.deliver('sim', `thread ${f.thread} #${i}`, `lose-thread at ${f.atMs} ms`, f.atMs, () => sim.loseThread(f.thread, `fault at ${f.atMs} ms`));
    });
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
    const workers = this.options.threads ?? 0;
    const { options, threads } = simulatedRuntime({
      clock: this.clock, loop: this.loop, rng: this.rng, deliveries: this.deliveries, instrument: this.instrument, stores: this.stores,
      record: (w, a, d) => this.record(w, a, d), threadLiveness: (node) => this.threadLiveness(node), current: (i) => i === this.incarnation,
      dataDir: this.dataDir, threads: workers,
    }, inc);
    this.threads = threads;
    const starting = Runtime.start(options);
    // Simulated threads say they are ready through the simulation's channels: run it until they have.
    this.rt = workers === 0 ? await starting : await this.settleOn(starting, false);
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
    this.incarnation++; // the old runtime never runs again: its turns and timers are gone
    this.threads?.abandon();
    this.deliveries.systemCrashed();
    await this.stores.closeAll();
    this.instrument.systemRestarted();
    this.deadLettersAtStart = this.deadLetters.length;
    this.incarnation--;
    await this.boot();
  }

  /**
   * Simulated thread `node` dies now, as a worker thread does on a native crash: what runs there stops, what waits
   * in its mailboxes is lost, and the runtime's recovery follows (its supervised actors restart on a replacement
   * thread per their supervisors, durable ones from the store; asks waiting on it fail with WorkerLostError).
   */
  loseThread(node: number, why = 'lost by the test'): void {
    if (this.threads === undefined || !(Number.isInteger(node) && node >= 1 && node <= (this.options.threads ?? 0))) {
      throw new UnknownFaultTargetError(`no simulated thread ${node} (threads: ${this.options.threads ?? 0}; thread 0 is the main thread: crash-system kills it)`, { details: { thread: node } });
    }
    const thread = this.threads.thread(node);
    if (thread === undefined) return this.record('thread', `thread ${node}`, `not lost (${why}): it is being replaced`);
    this.threadsLost++;
    this.threads.kill(thread, why);
  }

  /** A lose-thread fault of actor `id`'s k-th message: the thread running it dies (instrument.ts). */
  loseThreadOf(id: string, node: number, why: string): boolean {
    if (node === 0 || this.threads === undefined) {
      this.violations.push(new InvalidSimulationOptionError(`fault lose-thread of actor '${id}': it runs on the main thread (thread 0), which only crash-system kills; give the simulation threads: N`));
      return false;
    }
    this.loseThread(node, why);
    return true;
  }

  /** A message went down with a simulated thread (instrument.ts: the one whose handling lost it). */
  lostWithThread(to: string, type: string): void {
    this.deliveries.lostWithThread(to, type);
  }

  /** Is the simulated thread `node` runs on now still the same one? A function bound to it (true for thread 0). */
  threadLiveness(node: number): () => boolean {
    const thread = this.threads?.thread(node);
    return thread === undefined ? () => true : () => thread.alive;
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
    // By capability: the router picks now, and the message travels to the actor picked (Deliveries.routed).
    if (isRoute(ref)) return this.rt.tell(ref, type as never, payload as never);
    this.dispatch('test', ref, type, payload, () => this.rt.tell(ref, type as never, payload as never));
  }

  ask<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>>;
  ask(ref: ActorRef, type: string, payload?: unknown, options?: { timeoutMs?: number }): Promise<unknown> {
    if (isRoute(ref)) {
      this.live();
      return this.rt.ask(ref, type as never, payload as never, options as never);
    }
    return this.later('test', ref, type, payload, () => this.rt.ask(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  send<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: SendArgs<D, K>): Promise<SendReceipt>;
  send(ref: ActorRef, type: string, payload?: unknown, options?: { messageId?: string; timeoutMs?: number }): Promise<unknown> {
    if (isRoute(ref)) {
      this.live();
      return this.rt.send(ref, type as never, payload as never, options as never);
    }
    return this.later('test', ref, type, payload, () => this.rt.send(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  /** The ref of a running actor by id (refs are plain data: its thread is in it). */
  ref<D extends ActorDefinition = AnyActorDefinition>(id: string): ActorRef<D> {
    const ref = this.rt.localRef(id);
    if (ref === undefined) throw new UnknownFaultTargetError(`no running actor '${id}' in the simulation`, { details: { actor: id } });
    return ref as ActorRef<D>;
  }

  /** ask, then run until it settles. */
  call<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>> {
    return this.until((this.ask as (r: unknown, t: unknown, ...a: unknown[]) => Promise<Reply<D, K>>)(ref, type, ...args));
  }

  /** A message from `from` (an actor id or 'test'), landing in a step of its own (instrument.ts routes ctx messages here). */
  dispatch(from: string, ref: { id?: string }, type: string, payload: unknown, land: () => void, senderAlive?: () => boolean): void {
    this.deliveries.dispatch(from, ref.id ?? 'route', type, payload, land, senderAlive);
  }

  /** Like dispatch, for a message whose sender waits on a promise (ask, send). */
  later<T>(from: string, ref: { id?: string }, type: string, payload: unknown, land: () => Promise<T>, timeoutMs?: number, senderAlive?: () => boolean): Promise<T> {
    this.live();
    return this.deliveries.later(from, ref, type, payload, land, timeoutMs, senderAlive);
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
    this.violations.push(nondeterminism(api, where) as NondeterminismError);
  }

  get inStep(): boolean {
    return this.loop.inStep;
  }

  /** Everything one step set off (microtasks, durable writes until on disk); then a system crash that fell due. */
  private async settle(): Promise<void> {
    await this.stores.settle();
    if (this.crashDue) {
      this.crashDue = false;
      await this.crashSystem();
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
    return this.deliveries.landed;
  }
  /** Messages lost with a simulated thread since the system last started (invariants.ts, nothingLost). */
  lostWithThreadsSinceStart(): ReadonlyMap<string, number> {
    return this.deliveries.lost;
  }
  deadLettersSinceStart(): readonly DeadLetter[] {
    return this.deadLetters.slice(this.deadLettersAtStart);
  }

  /** Faults of the plan (for helpers). */
  faultsOf(kind: Fault['kind']): Fault[] {
    return this.plan.filter((f) => f.kind === kind);
  }
}

/** A message addressed by capability (a Route) rather than by ref. */
function isRoute(ref: { id?: unknown }): boolean {
  return ref.id === undefined;
}
