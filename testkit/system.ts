import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type RuntimeOptions } from '../runtime/runtime.ts';
import type { CrashReport } from '../supervisors/supervisor.ts';
import type { DeadLetter } from '../runtime/stats.ts';
import { InvalidSimulationOptionError, NondeterminismError, SimulationStoppedError, UnknownFaultTargetError } from './errors.ts';
import { checkTargets, validatePlan, type FaultPlan } from './faults.ts';
import { validateOptions, type SimulationOptions } from './options.ts';
import { SeededRandom } from './random.ts';
import { SimLoop } from './loop.ts';
import { Trace } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';
import { DeterminismGuard, nondeterminism, realSetImmediate, realSetTimeout } from './determinism.ts';
import { Instrumentation, type HandledMessage } from './instrument.ts';
import { StoreFaults } from './store-faults.ts';
import { SimStores } from './stores.ts';
import { MemoryDisk } from './memory-store.ts';
import { Deliveries } from './deliveries.ts';
import type { SimThreads } from './sim-threads.ts';
import { simulatedRuntime } from './runtime-options.ts';
import type { Simulation } from './simulation.ts';
import type { SimulatedModel } from './model.ts';

/**
 * The machinery of a simulated system (testkit/simulation.ts is the API built on it): one incarnation of a real
 * Runtime at a time under the virtual clock and the seeded loop, its boot and its crashes, lost threads, and the
 * runs that take the steps (advance, runUntilIdle, until).
 */
export class SimulatedSystem {
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
  protected rt!: Runtime;
  protected readonly loop: SimLoop;
  protected readonly rng: SeededRandom;
  protected readonly instrument: Instrumentation;
  protected readonly guard: DeterminismGuard;
  protected readonly violations: Error[] = [];
  protected readonly dataDir: string | undefined;
  protected readonly ownDir: boolean;
  protected readonly stores: SimStores;
  protected readonly storeFaults: StoreFaults;
  protected readonly deliveries: Deliveries;
  protected threads: SimThreads | undefined;
  protected incarnation = 0;
  protected checked = false;
  /** A crash-system fault landed: the system dies at the end of this step. */
  protected crashDue = false;
  protected stopped = false;
  protected deadLettersAtStart = 0;
  private prefixes = 0;
  /** The simulated models (sim.model()) and how to take each away from the agents' clients at stop(). */
  protected readonly models: Array<{ model: SimulatedModel; release: () => void }> = [];

  protected constructor(protected readonly options: SimulationOptions) {
    validateOptions(options);
    this.seed = options.seed;
    this.plan = validatePlan(options.faults ?? []);
    this.rng = new SeededRandom(options.seed);
    this.trace = new Trace(options.traceKeep);
    this.instrument = new Instrumentation(this as unknown as Simulation, this.plan);
    // A crash-system fault on a commit: the system dies at the end of the step whose writes reached that commit.
    this.storeFaults = new StoreFaults(this.plan, (detail) => this.record('fault', 'store', detail), () => void (this.crashDue = true));
    this.stores = new SimStores(this.storeFaults, options.durable === 'memory' ? new MemoryDisk() : undefined);
    const userRandom = this.rng.fork(2);
    this.guard = new DeterminismGuard(() => userRandom.next(), () => this.instrument.current, (err) => this.violations.push(err));
    this.loop = new SimLoop(this.clock, this.rng.fork(3), {
      maxSteps: options.maxSteps ?? 1_000_000,
      maxVirtualMs: options.maxVirtualMs ?? 86_400_000,
    }, this.trace, () => this.settle(), () => new Promise<void>((r) => realSetImmediate(r)), () => this.guard.install());
    this.deliveries = new Deliveries(this.loop, this.clock, this.plan, this.rng.fork(1), options.maxDeliveryDelayMs ?? 0, (w, a, d) => this.record(w, a, d));
    const d = options.durable;
    this.ownDir = d === true;
    // 'memory': the runtime still needs a data directory to persist actors; the store it opens there is in memory.
    this.dataDir = d === true ? mkdtempSync(join(tmpdir(), 'troupe-sim-')) : d === 'memory' ? `memory:troupe-sim-${options.seed}` : d ? d.dataDir : undefined;
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

  protected async boot(): Promise<void> {
    const inc = ++this.incarnation;
    const workers = this.options.threads ?? 0;
    const { options, threads } = simulatedRuntime({
      clock: this.clock, loop: this.loop, rng: this.rng, deliveries: this.deliveries, instrument: this.instrument, stores: this.stores,
      record: (w, a, d) => this.record(w, a, d), threadLiveness: (node) => this.threadLiveness(node), current: (i) => i === this.incarnation,
      dataDir: this.dataDir, threads: workers, nextPrefix: () => ++this.prefixes,
    }, inc);
    this.threads = threads;
    this.storeFaults.starting = true;
    try {
      await this.startRuntime(options, workers);
    } finally {
      this.storeFaults.starting = false;
    }
  }

  /** Runtime.start, then `setup` (boot). */
  private async startRuntime(options: RuntimeOptions, workers: number): Promise<void> {
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
    if (this.options.setup !== undefined) await this.options.setup(this as unknown as Simulation);
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
    this.storeFaults.restarted();
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

  /**
   * until(); `check`: this run is the test's, so the plan's targets must exist by now (not while building). `io`:
   * the promise may also wait on real I/O once the simulation is idle (shutdown closing LMDB): wait for it (10 s).
   */
  protected async settleOn<T>(promise: Promise<T>, check: boolean, io = false): Promise<T> {
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
    for (let waited = 0; io && !settled && waited < 10_000; waited++) {
      await new Promise<void>((r) => realSetTimeout(r, 1));
      if (!this.loop.idle()) await this.run(undefined, () => settled, check);
    }
    if (!settled) {
      this.instrument.checkStuck();
      throw new InvalidSimulationOptionError('until(): the simulation went idle and the promise never settled (it waits on something outside the simulation)');
    }
    return watched;
  }

  protected async run(limit: number | undefined, stop?: () => boolean, check = true): Promise<void> {
    this.live();
    if (check && !this.checked) {
      checkTargets(this.plan, this.instrument.known);
      if (this.models.length === 0 && this.plan.some((f) => f.kind === 'model-error')) {
        throw new UnknownFaultTargetError('the plan has model-error faults but the simulation has no simulated model: create one with sim.model() and give agents its endpoint', { details: { fault: 'model-error' } });
      }
      this.checked = true;
    }
    try {
      await this.loop.run(limit, () => this.violations.length > 0 || (stop?.() ?? false));
    } finally {
      this.guard.uninstall();
    }
    this.throwViolation();
  }

  protected throwViolation(): void {
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
  protected async settle(): Promise<void> {
    await this.stores.settle();
    if (this.crashDue) {
      this.crashDue = false;
      await this.crashSystem();
    }
  }

  record(what: string, actor: string, detail: string): void {
    this.trace.record({ step: this.loop.steps, at: this.clock.now(), what, actor, detail });
  }

  protected live(): void {
    if (this.stopped) throw new SimulationStoppedError('the simulation is stopped');
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
}
