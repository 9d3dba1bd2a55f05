import type { MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { nanoid } from 'nanoid';
import { createHash } from 'node:crypto';
import type { ActorDefinition, ActorRef, Address, AnyActorDefinition, AskArgs, AskOptions, MessageType, PayloadArgs, Reply, Route, SendArgs, SendOptions, SendReceipt, TerminationNotice } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { Messaging, SpawnOptions } from '../actors/context.ts';
import { Host } from './host.ts';
import { systemClock, type Clock } from './clock.ts';
import { mainTimebase, type Timebase } from './timebase.ts';
import { ActorRunningError, ClusterNotInstalledError, DuplicateActorIdError, InvalidDefinitionError, InvalidSpawnOptionError, RuntimeStoppedError, WorkerLostError, errorToData, reviveError, type ErrorData } from './errors.ts';
import { assertCloneable } from './cloneable.ts';
import { choosePlacement } from './placement.ts';
import { validateMessageId, validateSpawnOptions, validateStartOptions } from './validate.ts';
import type { Control } from './protocol.ts';
import type { SchedulingPolicy } from './scheduler.ts';
import type { ActorInspection, DeadLetter, RuntimeStats } from './stats.ts';
import type { ThreadMetrics } from './thread-metrics.ts';
import type { Supervision } from './cell.ts';
import { WorkerPool, type Booted } from './pool.ts';
import type { StandIn } from './supervision.ts';
import { rootLogger } from './logger.ts';
import { COMMITS_MS, stopWorker, within, type WorkerStopOutcome } from './worker-shutdown.ts';
import { callerTraceparent, parseTraceparent } from './tracing.ts';
import { Supervisor, type CrashReport, type SupervisionPort } from '../supervisors/supervisor.ts';
import { defineSupervisor, type ChildSpec, type SupervisorSpec } from '../supervisors/spec.ts';
import type { ActorStore, PoisonMessage } from '../persistence/store.ts';
import type { DirectoryChange, MemberPhase } from './directory.ts';
import { clusterProvider, threadExtensions, type ClusterMembership, type ClusterOptions, type RuntimeHarness } from './extensions.ts';
import type { MemberInfo } from '../actors/context.ts';

export interface RuntimeOptions {
  /** Worker threads to host actors (default: available parallelism). 0 runs every actor on the calling thread. */
  workers?: number;
  /** Injected time source for ask timeouts, supervision and stall detection (default: the system clock). */
  clock?: Clock;
  /** How the main thread's scheduler defers a turn (default: setImmediate). */
  defer?: (fn: () => void) => void;
  /** How the main thread's scheduler shapes its turns (runtime/scheduler.ts): a deterministic harness's hook. */
  scheduling?: SchedulingPolicy;
  /** A worker that does not answer for this long (real time) is terminated and replaced (default 5000 ms; 0: off). */
  stallMs?: number;
  /** Randomness for backoff jitter (default Math.random); inject for reproducible tests. */
  random?: () => number;
  /** Keep one booted spare worker so a lost thread is replaced in milliseconds (default true; costs ~10 MiB). */
  spareWorker?: boolean;
  /** LMDB data directory for persistent actors (created if missing). Without it, persistent actors cannot start. */
  dataDir?: string;
  /**
   * Keep the per-thread counters that metricsSnapshot() reads (per actor kind: messages, crashes, restarts, circuit
   * transitions, handling time per scheduler slice; asks; commit and snapshot times). Default true.
   */
  metrics?: boolean;
  /**
   * Join a cluster of runtimes on NATS (`{ servers, node }`; the other options: cluster/options.ts). Needs the
   * cluster layer imported first (cluster/index.ts); without it the runtime is a single process, as before.
   */
  cluster?: ClusterOptions;
  /** A deterministic harness's hooks (troupe/testkit; runtime/extensions.ts): never needed in production. */
  harness?: RuntimeHarness;
}

/** Every thread's counters and gauges (runtime/thread-metrics.ts), plus what only the main thread knows. */
export interface RuntimeMetrics {
  threads: ThreadMetrics[];
  /** Worker threads lost (died or stalled) since start. */
  threadsLost: number;
  workers: number;
}

/** Where the runtime is in its life. */
export type RuntimeLifecycle = 'running' | 'shutting-down' | 'stopped';

interface Registration {
  node: number;
  kind: string;
  /** Set when it offers capabilities: it is then a member of every thread's directory (runtime/directory.ts). */
  capabilities?: readonly string[];
}

/**
 * The runtime, seen from the thread that started it (node 0). It owns the registry of actor ids, the worker pool
 * and the supervisors; messages between actors never pass through here unless an actor lives here.
 */
export class Runtime implements Messaging {
  private readonly host: Host;
  private readonly registry = new Map<string, Registration>();
  private readonly loads: number[];
  /** Control requests awaiting their answer, with the thread asked (a lost thread fails them). */
  private readonly requests = new Map<number, { node: number; resolve: (c: Control) => void; reject: (err: Error) => void }>();
  private readonly owners = new Map<string, Supervisor>();
  private readonly crashListeners = new Set<(report: CrashReport) => void>();
  private readonly recentCrashes: CrashReport[] = [];
  private workerPool: WorkerPool | undefined;
  private reqSeq = 0;
  private stopped = false;
  private shuttingDown = false;
  private threadsLost = 0;
  private readonly dataDir: string | undefined;
  private readonly clock: Clock;
  private readonly timebase: Timebase;
  private readonly random: () => number;
  /** The cluster this runtime joined (runtime/extensions.ts), if any. */
  private cluster: ClusterMembership | undefined;

  private constructor(readonly workerCount: number, options: RuntimeOptions) {
    this.loads = new Array(workerCount + 1).fill(0);
    // Read through mainTimebase: workers then count circuit retry times in this clock too.
    ({ clock: this.clock, timebase: this.timebase } = mainTimebase(options.clock ?? systemClock, workerCount));
    this.random = options.random ?? Math.random;
    this.supervisionPort = this.makeSupervisionPort();
    this.dataDir = options.dataDir;
    this.shutdownWaiting = options.harness?.shutdownWaiting?.bind(options.harness);
    this.host = new Host({
      node: 0,
      metrics: options.metrics,
      ports: new Array(workerCount + 1).fill(undefined),
      clock: this.clock,
      defer: options.defer,
      scheduling: options.scheduling,
      dataDir: options.dataDir,
      harness: options.harness,
      random: () => this.random(),
      onControl: (from, c) => this.onControl(from, c),
      spawn: (def, opts) => this.spawn(def, opts),
      lookup: (id) => this.lookup(id),
    });
    for (const ext of threadExtensions()) {
      const services = this.host.services(() => this.random());
      ext.attach(options.harness?.services?.(services) ?? services);
    }
  }

  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    if ((globalThis as { __troupeWorker?: boolean }).__troupeWorker) {
      // A worker imported a module that starts a runtime at top level: it would recurse forever.
      throw new InvalidDefinitionError('Runtime.start() ran inside a Troupe worker while it loaded an actor module: '
        + 'keep actor definitions in modules without top-level side effects');
    }
    validateStartOptions(options);
    const count = options.workers ?? availableParallelism();
    const runtime = new Runtime(count, options);
    if (options.cluster !== undefined) {
      const join = clusterProvider();
      if (join === undefined) throw new ClusterNotInstalledError("Runtime.start({ cluster }) needs the cluster layer: import its cluster/index.ts first");
      runtime.cluster = await join(options.cluster, runtime.host.services(() => runtime.random()));
    }
    const modules = threadExtensions().map((e) => e.module);
    if (runtime.cluster?.threadModule !== undefined) modules.push(runtime.cluster.threadModule);
    if (count > 0) {
      runtime.workerPool = await WorkerPool.start(count, {
        message: (node, ops) => runtime.host.receive(node, ops),
        lost: (node, why) => void runtime.workerLost(node, why),
      }, { dataDir: options.dataDir, timebase: runtime.timebase, metrics: options.metrics, extensions: modules, threads: options.harness?.threads });
      for (let node = 1; node <= count; node++) runtime.host.transport.connect(node, runtime.workerPool.workers[node]!);
      if (options.spareWorker ?? true) runtime.workerPool.prepareSpare();
      const stallMs = options.stallMs ?? 5000;
      if (stallMs > 0) runtime.workerPool.watchStalls(stallMs, (node) => runtime.host.sendControl(node, { op: 'ping', req: 0 }));
    }
    // Once the workers are up: the other nodes' members reach every thread's directory from here on.
    runtime.cluster?.attachDirectory?.((change) => runtime.directoryChange(change, true));
    await runtime.cluster?.started?.(runtime); // (its subscriptions reach the server before start resolves)
    return runtime;
  }

  // ---- messaging ----------------------------------------------------------------------------------------------

  /** To an actor by ref, or by capability (a Route: the router picks one, on this thread). */
  tell<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(to: Address<D>, type: K, ...payload: PayloadArgs<D, K>): void;
  // Not a rest parameter in the implementation: an array per call on the hottest path (types as declared above).
  tell(ref: ActorRef | Route, type: string, payload?: unknown): void {
    if (this.stopped) return this.host.deadLetters.record(ref.id ?? '', type, '', 'stopped');
    this.host.tell(ref, type, payload, '', this.scopeTrace !== '' ? this.scopeTrace : callerTraceparent(undefined));
  }

  /**
   * Run `fn` with every message it sends from outside any handler (tell, ask, send, publish) continuing the W3C
   * trace `traceparent` (e.g. an HTTP request's header): their handlers, and what those send on, share its trace
   * id. A malformed traceparent throws InvalidTraceparentError. Synchronous sends only: the scope ends when `fn` returns.
   */
  inTrace<T>(traceparent: string, fn: () => T): T {
    const trace = callerTraceparent(traceparent);
    const outer = this.scopeTrace;
    this.scopeTrace = trace;
    try {
      return fn();
    } finally {
      this.scopeTrace = outer;
    }
  }

  /** The trace of an inTrace() scope being run ('' outside one). */
  private scopeTrace = '';

  private outsideTrace(given: string | undefined): string {
    return given !== undefined || this.scopeTrace === '' ? callerTraceparent(given) : this.scopeTrace;
  }

  ask<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>> {
    const options = args[1] as AskOptions | undefined;
    return this.host.ask(ref, type, args[0], '', options?.timeoutMs, this.outsideTrace(options?.traceparent)) as Promise<Reply<D, K>>;
  }

  /**
   * Send and be told once the message is safe: for an actor with a durable mailbox, once it is journaled on disk
   * (it will be handled exactly once, even across a crash of the process); otherwise once it is in the mailbox.
   * Pass `messageId` to make retries safe: a message id already received is acknowledged as a duplicate.
   */
  send<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: SendArgs<D, K>): Promise<SendReceipt> {
    const options = args[1] as SendOptions | undefined;
    if (options?.messageId !== undefined) validateMessageId(options.messageId);
    return this.host.sendAcknowledged(ref, type, args[0], '', options?.messageId ?? '', options?.timeoutMs, this.outsideTrace(options?.traceparent)) as Promise<SendReceipt>;
  }

  publish(topic: string, type: string, payload?: unknown): void {
    this.host.publish(topic, type, payload, '', this.outsideTrace(undefined));
  }

  /** The live actors offering `route`'s capabilities, least loaded first, as this thread sees them (router/). */
  find(route: Route): readonly MemberInfo[] {
    return this.host.find(route);
  }

  /** The cluster this runtime joined (`Runtime.start({ cluster })`), for the cluster layer's own API (cluster/). */
  get clusterMembership(): ClusterMembership | undefined {
    return this.cluster;
  }

  /** The runtime's clock (injected, or the system clock): what capabilities built on it schedule by. */
  timeSource(): Clock {
    return this.clock;
  }

  /**
   * Take an actor out of routing before stopping it: every thread's directory marks it 'draining', so no route
   * picks it any more; messages sent to its ref are still delivered. (A pool shrinking does this first.)
   */
  withdraw(id: string): void {
    this.memberPhase(id, 'draining');
  }

  /** Every capability some live actor offers (runtime/directory.ts). */
  directoryCapabilities(): string[] {
    return [...this.host.directory.capabilities()];
  }

  async lookup(id: string): Promise<ActorRef | undefined> {
    const reg = this.registry.get(id);
    if (reg === undefined && this.cluster !== undefined) return this.cluster.lookup(id);
    return reg === undefined || reg.node < 0 ? undefined : { id, kind: reg.kind, node: reg.node };
  }

  /** The ref of an actor running in this process (lookup() without the cluster, synchronously), or undefined. */
  localRef(id: string): ActorRef | undefined {
    const reg = this.registry.get(id);
    return reg === undefined || reg.node < 0 ? undefined : Object.freeze({ id, kind: reg.kind, node: reg.node });
  }

  /** Stop an actor; resolves once it has terminated (its current message finished, the rest dead-lettered). */
  stop(ref: ActorRef): Promise<void> {
    const to = this.hostOf(ref);
    return new Promise((resolve) => {
      this.host.watch(() => resolve(), to);
      this.host.stop(to);
    });
  }

  /** Call `onTerminated` once when `ref` stops (at once if it is already gone). Returns the unwatch function. */
  watch(ref: ActorRef, onTerminated: (notice: TerminationNotice) => void): () => void {
    const to = this.hostOf(ref);
    const id = this.host.watch(onTerminated, to);
    return () => this.host.unwatch(id, to);
  }

  /**
   * The thread a stop or watch of `ref` goes to: where the registry has it (a ref may name a thread of another
   * node); in a cluster, an actor this node does not host goes to thread 0 (which reaches its node).
   */
  private hostOf(ref: ActorRef): ActorRef {
    if (this.cluster === undefined) return ref;
    const reg = this.registry.get(ref.id);
    if (reg === undefined) return ref.node === 0 ? ref : { id: ref.id, kind: ref.kind, node: 0 };
    return reg.node < 0 || reg.node === ref.node ? ref : { id: ref.id, kind: ref.kind, node: reg.node };
  }

  /** Follow dead letters recorded on the main thread (those of workers are counted in stats()). */
  onDeadLetter(listener: (letter: DeadLetter) => void): () => void {
    return this.host.deadLetters.listen(listener);
  }

  // ---- spawning -----------------------------------------------------------------------------------------------

  async spawn<D extends ActorDefinition>(definition: D, options: SpawnOptions<D> = {}): Promise<ActorRef<D>> {
    if (this.stopped) throw new RuntimeStoppedError('the runtime is shut down');
    if (!isActorDefinition(definition)) throw new InvalidDefinitionError('spawn expects a definition made by defineActor');
    validateSpawnOptions(options, this.workerCount, (n) => this.live(n));
    return (await this.place(definition.module, definition.kind, options, definition)) as ActorRef<D>;
  }

  private async place(module: string, kind: string, options: SpawnOptions, local?: ActorDefinition, supervision?: Supervision): Promise<ActorRef> {
    const id = options.id ?? nanoid();
    if (this.registry.has(id)) throw new DuplicateActorIdError(`an actor with id '${id}' is already running`);
    assertCloneable(options.args, 'spawn args');
    if (options.node !== undefined || this.cluster?.spawnElsewhere !== undefined) {
      const elsewhere = await this.spawnElsewhere(id, module, kind, options, supervision);
      if (elsewhere !== undefined) return elsewhere;
      // A spawn of the same id may have reserved it here while this one awaited the cluster's choice.
      if (this.registry.has(id)) throw new DuplicateActorIdError(`an actor with id '${id}' is already running`);
    }
    const node = choosePlacement({ pin: options.pin, nearNode: options.near?.node }, this.loads, (n) => this.live(n));
    this.registry.set(id, { node: -1, kind }); // reserved: a concurrent spawn of the same id fails at once
    this.loads[node]++;
    let claimed = false;
    try {
      if (this.cluster !== undefined) {
        await this.cluster.reserve(id, kind); // unique across the cluster's nodes too
        claimed = true;
      }
      if (node === 0) {
        const def = local ?? (await this.host.definition(module, kind, id));
        this.host.createLocal(id, def, options.args, options.mailbox, supervision);
      } else {
        const res = await this.request(node, (req) => ({ op: 'spawn', req, id, module, kind, args: options.args, mailbox: options.mailbox, supervision }));
        if (res.op === 'spawned' && res.error) throw reviveError(res.error);
      }
    } catch (err) {
      this.registry.delete(id);
      this.reservedPhase.delete(id);
      this.loads[node] = Math.max(0, this.loads[node] - 1); // (counted from 0 again if its thread was lost meanwhile)
      if (claimed) this.cluster?.released(id);
      throw err;
    }
    this.cluster?.placed(id, kind, node);
    const capabilities = mergeCapabilities(local?.capabilities, options.capabilities);
    this.registry.set(id, capabilities === undefined ? { node, kind } : { node, kind, capabilities });
    // A crash report (and its supervisor's decision) can come in the same batch as the spawn's answer: the phase
    // decided while the id was only reserved is the one it joins with.
    const phase = this.reservedPhase.get(id) ?? 'running';
    this.reservedPhase.delete(id);
    if (capabilities !== undefined) this.directoryChange(['join', id, kind, node, capabilities, phase]);
    return Object.freeze({ id, kind, node });
  }

  /**
   * A spawn another node of the cluster takes (its `node` or `placement` option, or the cluster's default), or
   * undefined: it starts here. Supervised, pinned and near actors always start here (their supervisor and threads are).
   */
  private async spawnElsewhere(id: string, module: string, kind: string, options: SpawnOptions, supervision: Supervision | undefined): Promise<ActorRef | undefined> {
    const { node, placement } = options;
    if (this.cluster === undefined) {
      if (node !== undefined) throw new InvalidSpawnOptionError(`spawn option node ('${node}') needs a cluster: Runtime.start({ cluster })`);
      return undefined;
    }
    if (this.cluster.spawnElsewhere === undefined || (node !== undefined && node === this.cluster.nodeId)) return undefined;
    const bound = supervision !== undefined ? 'a supervised' : options.pin !== undefined ? 'a pinned' : options.near !== undefined ? "a 'near'" : undefined;
    if (bound !== undefined) {
      if (node !== undefined) throw new InvalidSpawnOptionError(`${bound} actor starts on this node (${this.cluster.nodeId}), not on node '${node}'`);
      return undefined;
    }
    return this.cluster.spawnElsewhere(module, kind, { id, args: options.args, mailbox: options.mailbox, capabilities: options.capabilities, node, placement });
  }

  // ---- the directory (runtime/directory.ts): changed here only, posted to the workers once per turn -------------

  private directoryOut: DirectoryChange[] = [];

  /** `remote`: a change of another node's members (from the cluster), not told back to it. */
  private directoryChange(change: DirectoryChange, remote = false): void {
    this.host.directory.apply(change);
    if (!remote) this.cluster?.directoryChanged?.(change);
    if (this.workerCount === 0) return;
    if (this.directoryOut.length === 0) queueMicrotask(() => this.postDirectory());
    this.directoryOut.push(change);
  }

  private postDirectory(): void {
    const changes = this.directoryOut;
    this.directoryOut = [];
    for (let node = 1; node <= this.workerCount; node++) if (this.live(node)) this.host.sendControl(node, { op: 'directory', changes });
  }

  /** A member's health as its supervisor decides it (nothing for actors offering no capability). */
  private memberPhase(id: string, phase: MemberPhase): void {
    const member = this.host.directory.get(id);
    if (member !== undefined && member.phase !== phase) this.directoryChange(['phase', id, phase]);
    else if (member === undefined && this.registry.get(id)?.node === -1) this.reservedPhase.set(id, phase);
  }

  /** Phases decided for ids still being spawned (see place()). */
  private readonly reservedPhase = new Map<string, MemberPhase>();

  private memberLeft(id: string): void {
    this.reservedPhase.delete(id);
    if (this.host.directory.get(id) !== undefined) this.directoryChange(['leave', id]);
  }

  private live(node: number): boolean {
    return node === 0 || (this.workerPool?.live(node) ?? false);
  }

  private request(node: number, make: (req: number) => Control): Promise<Control> {
    return new Promise((resolve, reject) => {
      if (!this.live(node)) return reject(new RuntimeStoppedError(`thread ${node} is not running`));
      const req = ++this.reqSeq;
      this.requests.set(req, { node, resolve, reject });
      this.host.sendControl(node, make(req));
    });
  }

  private onControl(from: number, c: Control): void {
    if (this.host.supervise(c)) return;
    switch (c.op) {
      case 'gone': {
        const reg = this.registry.get(c.id);
        if (reg !== undefined && reg.node === from) {
          this.registry.delete(c.id);
          this.loads[from]--;
          this.memberLeft(c.id);
          this.cluster?.released(c.id);
        }
        return this.owners.get(c.id)?.childGone(c.id, c.reason);
      }
      case 'crashed':
        if (c.stopping !== true) this.memberPhase(c.id, 'restarting');
        return this.owners.get(c.id)?.childCrashed(c.id, c.kind, c.messageType, c.error, c.trial, c.stopping === true, { incarnation: c.incarnation, traceId: c.traceId });
      case 'crashed-restarted':
        return this.owners.get(c.id)?.childRestartedLocally(c.id, c.kind, c.messageType, c.error, { incarnation: c.incarnation, traceId: c.traceId });
      case 'revoked':
        return this.owners.get(c.id)?.childRevoked(c.id, c.seq);
      case 'trial-ok':
        this.memberPhase(c.id, 'running');
        return this.owners.get(c.id)?.childTrialSucceeded(c.id);
      case 'pong':
        this.workerPool?.pong(from);
        if (c.req === 0) return; // the stall watch's
        this.requests.get(c.req)?.resolve(c);
        this.requests.delete(c.req);
        return;
      case 'spawn-request':
        // ctx.spawn on a worker: its options are checked here, as runtime.spawn checks them (InvalidSpawnOptionError).
        return void Promise.resolve().then(() => {
          validateSpawnOptions(c.options as SpawnOptions, this.workerCount, (n) => this.live(n));
          return this.place(c.module, c.kind, c.options as SpawnOptions);
        }).then(
          (ref) => this.host.sendControl(from, { op: 'spawn-result', req: c.req, ref }),
          (err: unknown) => this.host.sendControl(from, { op: 'spawn-result', req: c.req, error: errorToData(err) as ErrorData }),
        );
      case 'lookup':
        return void this.lookup(c.id).then((ref) => this.host.sendControl(from, { op: 'lookup-result', req: c.req, ref }));
      case 'spawned':
      case 'stats-result':
      case 'metrics-result':
      case 'inspect-result':
      case 'shutdown-done':
        this.requests.get(c.req)?.resolve(c);
        this.requests.delete(c.req);
        return;
    }
  }

  // ---- supervision --------------------------------------------------------------------------------------------

  /** Start a supervision tree; resolves once every child has started (rejects, with nothing left running, if one fails). */
  async supervise(spec: SupervisorSpec): Promise<Supervisor> {
    if (this.stopped) throw new RuntimeStoppedError('the runtime is shut down');
    const sup = new Supervisor(this.supervisionPort, defineSupervisor(spec));
    await sup.start();
    this.roots.add(sup);
    return sup;
  }

  /** Every crash of a supervised actor, with its supervisor's decision. */
  onCrash(listener: (report: CrashReport) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  crashes(): CrashReport[] {
    return this.recentCrashes.slice();
  }

  private readonly roots = new Set<Supervisor>();

  private supervisionPort!: SupervisionPort;

  private makeSupervisionPort(): SupervisionPort {
    return {
      clock: this.clock,
      random: () => this.random(),
      spawnChild: async (spec: ChildSpec, owner: Supervisor, stash: number, pin?: number, credit = 0) => {
        if (spec.failover !== undefined && spec.failover !== false) {
          const ref = await this.spawnOwned(spec);
          this.owners.set(spec.id, owner);
          return ref;
        }
        const supervision: Supervision = { stash, handlerTimeoutMs: spec.handlerTimeoutMs ?? 0, credit };
        // Owned before it starts: its first crash report can come in the same batch as the 'spawned' answer.
        const claimed = !this.registry.has(spec.id) && !this.owners.has(spec.id);
        if (claimed) this.owners.set(spec.id, owner);
        let ref: ActorRef;
        for (let attempt = 1; ; attempt++) {
          try {
            ref = await this.place(spec.actor.module, spec.actor.kind, { id: spec.id, args: spec.args, mailbox: spec.mailbox, capabilities: spec.capabilities, pin: pin !== undefined && this.live(pin) ? pin : undefined }, spec.actor, supervision);
            break;
          } catch (err) {
            // The thread it was being started on was lost meanwhile (and the child did not get there): start it
            // again, on the replacement or another thread, rather than fail the whole tree's start.
            if (attempt < 3 && err instanceof WorkerLostError && !this.registry.has(spec.id)) continue;
            if (claimed) this.owners.delete(spec.id);
            throw err;
          }
        }
        this.owners.set(spec.id, owner);
        return ref;
      },
      restart: (ref, credit) => this.ownedChildren.has(ref.id) ? this.cluster?.resumeOwned?.(ref.id) : this.command(ref.node, { op: 'restart', id: ref.id, credit }),
      grant: (ref, credit) => this.command(ref.node, { op: 'grant', id: ref.id, credit }),
      revoke: (ref, seq) => this.command(ref.node, { op: 'revoke', id: ref.id, seq }),
      openCircuit: (ref, retryAt) => this.command(ref.node, { op: 'circuit-open', id: ref.id, retryAt }),
      halfOpen: (ref) => this.ownedChildren.has(ref.id)
        ? this.cluster?.trialOwned?.(ref.id, () => this.owners.get(ref.id)?.childTrialSucceeded(ref.id))
        : this.command(ref.node, { op: 'half-open', id: ref.id }),
      stop: (ref) => this.stop(ref),
      // A cluster-owned child is no actor of this node's threads: a kill is the cluster's stop.
      kill: (ref, reason) => this.ownedChildren.has(ref.id) ? this.stop(ref) : new Promise<void>((resolve) => {
        this.host.watch(() => resolve(), ref);
        this.command(ref.node, { op: 'kill', id: ref.id, reason });
      }),
      release: (id) => {
        this.owners.delete(id);
        this.ownedChildren.delete(id);
      },
      report: (crash) => {
        if (this.recentCrashes.length >= 100) this.recentCrashes.shift();
        this.recentCrashes.push(crash);
        // One line per crash, with the cause and the decision (the crashing thread logs nothing for supervised actors).
        rootLogger().warn({
          actor: crash.actorId, kind: crash.kind, messageType: crash.messageType, incarnation: crash.incarnation, supervisor: crash.supervisor,
          decision: crash.decision, restartCount: crash.restartCount, trace_id: crash.traceId, err: crash.error,
        }, 'actor crashed');
        for (const l of this.crashListeners) l(crash);
      },
    };
  }

  /** A cluster-owned child (ChildSpec.failover): the cluster hosts it, and moves it when this node dies. */
  private async spawnOwned(spec: ChildSpec): Promise<ActorRef> {
    if (this.cluster?.spawnOwned === undefined) {
      throw new InvalidSpawnOptionError(`child ${spec.id} is cluster-owned (failover): it needs Runtime.start({ cluster }) with the cluster layer imported`);
    }
    const snapshotEvery = spec.failover === true ? undefined : (spec.failover as { snapshotEvery?: number }).snapshotEvery;
    // Its crashes go to its supervisor as a thread's crash reports do; a restart is resumeOwned (port.restart).
    const crashed = (messageType: string, error: ErrorData, trial: boolean) => this.owners.get(spec.id)?.childCrashed(spec.id, spec.actor.kind, messageType, error, trial);
    const ref = await this.cluster.spawnOwned(spec.actor, { id: spec.id, args: spec.args, snapshotEvery, capabilities: spec.capabilities, mailbox: spec.mailbox }, crashed);
    this.ownedChildren.add(spec.id);
    return ref;
  }

  /** Supervised children the cluster hosts (ChildSpec.failover). */
  private readonly ownedChildren = new Set<string>();

  /** A supervisor's decision for the thread hosting the child. */
  private command(node: number, c: Control): void {
    if (c.op === 'restart') this.memberPhase(c.id, 'running');
    else if (c.op === 'circuit-open') this.memberPhase(c.id, 'open');
    else if (c.op === 'half-open') this.memberPhase(c.id, 'half-open');
    if (node === 0) this.host.supervise(c);
    else this.host.sendControl(node, c);
  }

  /**
   * A worker died or stalled. Asks waiting on it fail at once; unsupervised actors on it are gone (watchers are
   * told); a replacement thread takes its number. Every supervised actor it hosted that its supervisor restarts
   * (a survivor) has a stand-in there from the replacement's first instant, and counts as crashed: its supervisor
   * restarts it in place (same id, same node: refs stay valid) or keeps its circuit open, as for a crash on a live
   * thread, and mail sent to it meanwhile is held or fails fast as it would then (see StandIn).
   */
  private async workerLost(node: number, why: string): Promise<void> {
    if (this.stopped) return;
    this.threadsLost++;
    const lost: Array<[string, Registration]> = [];
    for (const entry of this.registry) if (entry[1].node === node) lost.push(entry);
    const survivors: string[] = [];
    for (const [id, reg] of lost) {
      // A survivor's id stays reserved (unseen by lookup) until its stand-in is up: no other actor can take it.
      if (this.owners.get(id)?.childLost(id) === true) {
        survivors.push(id);
        this.registry.set(id, { ...reg, node: -1 });
        this.memberPhase(id, 'restarting');
      } else {
        this.registry.delete(id);
        this.memberLeft(id);
        this.cluster?.released(id); // gone with its thread: its cluster-wide id is free again
      }
    }
    this.loads[node] = 0;
    // Requests it will never answer (a spawn there, stats) fail, rather than wait for good.
    for (const [req, r] of this.requests) {
      if (r.node !== node) continue;
      this.requests.delete(req);
      r.reject(new WorkerLostError(`thread ${node} was lost before answering`));
    }
    rootLogger().warn({ node, why, supervised: survivors.length }, 'worker thread lost');
    this.replacing.set(node, survivors);
    this.host.nodeLost(node, survivors);
    for (let other = 1; other <= this.workerCount; other++) if (other !== node) this.host.sendControl(other, { op: 'node-lost', node, survivors });
    this.host.transport.flush();
    // Replacements run one at a time, so each new thread gets channels to every other (including new) thread.
    const turn = this.recovery.then(() => this.replaceWorker(node, survivors));
    this.recovery = turn.catch((err: unknown) => {
      if (!this.stopped) rootLogger().error({ node, err }, 'could not replace worker thread');
    });
    await this.recovery;
  }

  private recovery: Promise<unknown> = Promise.resolve();
  /** Threads lost and not yet replaced, with their actors to be restarted there (a new thread must know them). */
  private readonly replacing = new Map<number, string[]>();

  private async replaceWorker(node: number, survivors: string[]): Promise<void> {
    if (this.stopped) return;
    // Each survivor's stand-in, as its supervisor sees the child now (its circuit may be open).
    const standIns: StandIn[] = [];
    for (const id of survivors) {
      const s = this.owners.get(id)?.standIn(id);
      if (s === undefined) continue;
      const supervision: Supervision = { stash: s.stash, handlerTimeoutMs: s.spec.handlerTimeoutMs ?? 0, credit: 0 };
      standIns.push({ id, module: s.spec.actor.module, kind: s.spec.actor.kind, args: s.spec.args, mailbox: s.spec.mailbox, supervision, phase: s.phase, retryAt: s.retryAt });
    }
    let booted: Booted;
    try {
      booted = await this.workerPool!.replace(node, (peer, lost: number, port: MessagePort) => {
        WorkerPool.postControl(peer, { op: 'reconnect', node: lost, port }, [port]);
      }, standIns);
    } catch (err) {
      if (!this.stopped) {
        // No thread after all: every thread forgets it (channels handed out for it included), watchers of the
        // survivors hear 'worker-lost', and their supervisors spawn them again elsewhere.
        this.host.nodeLost(node, []);
        for (let other = 1; other <= this.workerCount; other++) if (other !== node) this.host.sendControl(other, { op: 'node-lost', node, survivors: [] });
        this.replaced(node, survivors, new Map());
      }
      throw err;
    }
    if (this.stopped) return;
    this.host.transport.connect(node, booted.worker);
    this.host.sendControl(node, { op: 'directory', changes: this.host.directory.snapshot(), reset: true });
    // Threads lost meanwhile and still being replaced: the new thread holds watches and stops on their survivors too.
    for (const [other, theirs] of this.replacing) if (other !== node) this.host.sendControl(node, { op: 'node-lost', node: other, survivors: theirs });
    const failed = new Set(booted.failed);
    this.replaced(node, survivors, new Map(standIns.filter((s) => !failed.has(s.id)).map((s) => [s.id, s])));
  }

  /** Register the survivors' stand-ins (`made`), renew the watches on them, then let their supervisors decide. */
  private replaced(node: number, survivors: string[], made: Map<string, StandIn>): void {
    this.replacing.delete(node);
    for (const id of survivors) {
      const s = made.get(id);
      const reg = this.registry.get(id);
      if (s !== undefined) {
        this.registry.set(id, { ...reg, node, kind: s.kind });
        this.loads[node]++;
        this.memberPhase(id, s.phase);
      } else if (reg?.node === -1) {
        this.registry.delete(id); // its reservation (see workerLost)
        this.memberLeft(id);
        this.cluster?.released(id);
      }
    }
    // Watches held here and on other threads on the lost actors: registered again with their stand-ins, which exist
    // from the replacement's first instant, so a watcher hears only of a final stop. (A survivor without a stand-in
    // answers 'not-found'.)
    this.host.rewatch(node);
    for (let other = 1; other <= this.workerCount; other++) if (other !== node) this.host.sendControl(other, { op: 'rewatch', node });
    for (const id of survivors) {
      const s = made.get(id);
      const wanted = this.owners.get(id)?.childReplaced(id, s?.phase) ?? false;
      // Stopped or removed by its supervisor while its thread was being replaced: nobody wants the stand-in.
      if (s !== undefined && !wanted) this.host.stop({ id, kind: s.kind, node });
    }
  }

  // ---- poison messages (persistence/poison.ts) ------------------------------------------------------------------

  /**
   * The durable messages of `actorId` set aside as poison (replayed `poisonAfter` times after losses of their thread
   * or process, never completing), oldest first. They stay until dropped or requeued.
   */
  async poisonMessages(actorId: string): Promise<PoisonMessage[]> {
    return this.poisonStore().poisonMessages(actorId);
  }

  /** Forget a poison message; resolves to whether there was one, once its removal is on disk. */
  async dropPoisonMessage(actorId: string, seq: number): Promise<boolean> {
    return this.poisonStore().dropPoison(actorId, seq);
  }

  /**
   * Send a poison message to `ref` again, as a new message at the end of its journal (after a fix, say), then forget
   * it. Resolves with the send's receipt, or undefined when there is no such poison message. Its message id is
   * derived from the original, so a second requeue of the same message (a crash between send and forget) is
   * recognised as a retry while that id is in the actor's dedup window.
   */
  async requeuePoisonMessage(ref: ActorRef, seq: number): Promise<SendReceipt | undefined> {
    const message = this.poisonStore().poisonMessages(ref.id).find((m) => m.seq === seq);
    if (message === undefined) return undefined;
    const receipt = (await this.host.sendAcknowledged(ref, message.type, message.payload, '', requeuedId(message.id, seq), undefined, parseTraceparent(message.trace) ?? '')) as SendReceipt;
    await this.poisonStore().dropPoison(ref.id, seq);
    return receipt;
  }

  /**
   * Delete everything the store keeps of actor `actorId` (its snapshot and their history, its journal, remembered
   * message ids, poison messages): for an actor stopped for good, whose id a later spawn then starts afresh. Refused
   * with ActorRunningError while it runs (a stop resolves once its last writes are durable, so stop it first).
   * Resolves once the removal is on disk.
   */
  async deleteStoredActor(actorId: string): Promise<void> {
    const store = this.poisonStore();
    if ((await this.lookup(actorId)) !== undefined) throw new ActorRunningError(`actor '${actorId}' is running: stop it before deleting what is stored of it`, { details: { actorId } });
    await store.deleteActor(actorId);
  }

  private poisonStore(): ActorStore {
    if (this.stopped) throw new RuntimeStoppedError('the runtime is shut down');
    return this.host.store(); // the environment every thread shares: what a worker set aside is visible here
  }

  // ---- introspection and shutdown -----------------------------------------------------------------------------

  /** Per actor: messages handled, mailbox depth, handling time; per thread: actor count, event-loop utilization. */
  async stats(options: { actors?: boolean } = {}): Promise<RuntimeStats> {
    const withActors = options.actors ?? true;
    const nodes = [this.host.stats(withActors)];
    for (let node = 1; node <= this.workerCount; node++) {
      if (!this.live(node)) continue;
      const res = await this.request(node, (req) => ({ op: 'stats', req, actors: withActors })).catch(() => undefined); // lost meanwhile
      if (res?.op === 'stats-result') nodes.push(res.stats);
    }
    const deadLetters: RuntimeStats['deadLetters'] = {};
    for (const n of nodes) {
      for (const [reason, count] of Object.entries(n.deadLetters)) {
        deadLetters[reason as keyof typeof deadLetters] = (deadLetters[reason as keyof typeof deadLetters] ?? 0) + (count ?? 0);
      }
    }
    // Merged by time (a stable sort keeps each thread's own order among equal stamps), the latest 100.
    const recentDeadLetters = nodes.flatMap((n) => n.recentDeadLetters).sort((a, b) => a.at - b.at).slice(-100);
    return { nodes, deadLetters, recentDeadLetters };
  }

  /** Every thread's counters and gauges, for metrics (a thread lost meanwhile is left out). */
  async metricsSnapshot(): Promise<RuntimeMetrics> {
    const threads = [this.host.metrics()];
    const asked: Promise<Control | undefined>[] = [];
    for (let node = 1; node <= this.workerCount; node++) {
      if (this.live(node)) asked.push(this.request(node, (req) => ({ op: 'metrics', req })).catch(() => undefined));
    }
    for (const res of await Promise.all(asked)) if (res?.op === 'metrics-result') threads.push(res.metrics);
    return { threads, threadsLost: this.threadsLost, workers: this.workerCount };
  }

  /** One actor, asked of its thread: mailbox depth, phase, incarnation, and its committed state when `state`. */
  async inspect(id: string, options: { state?: boolean } = {}): Promise<ActorInspection | undefined> {
    const reg = this.registry.get(id);
    if (reg === undefined || reg.node < 0) return undefined;
    if (reg.node === 0) return this.host.inspect(id, options.state ?? true);
    const res = await this.request(reg.node, (req) => ({ op: 'inspect', req, id, state: options.state ?? true }));
    if (res.op !== 'inspect-result') return undefined;
    if (res.error) throw reviveError(res.error);
    return res.inspection;
  }

  /** Ask every thread to answer: per thread whether it did within `timeoutMs` (real time) and how long it took. */
  async ping(timeoutMs: number): Promise<Array<{ node: number; ok: boolean; ms: number; error?: string }>> {
    const out = [{ node: 0, ok: true, ms: 0 }] as Array<{ node: number; ok: boolean; ms: number; error?: string }>;
    const asked: Promise<void>[] = [];
    for (let node = 1; node <= this.workerCount; node++) {
      const t0 = performance.now();
      const entry: { node: number; ok: boolean; ms: number; error?: string } = { node, ok: false, ms: 0 };
      out.push(entry);
      if (!this.live(node)) {
        entry.error = 'thread not running (being replaced)';
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
      asked.push(Promise.race([this.request(node, (req) => ({ op: 'ping', req })), late]).then(
        (res) => {
          entry.ms = performance.now() - t0;
          if (res === 'late') entry.error = `no answer within ${timeoutMs} ms`;
          else entry.ok = true;
        },
        (err: unknown) => void (entry.error = String((err as Error)?.message ?? err)),
      ).finally(() => clearTimeout(timer)));
    }
    await Promise.all(asked);
    return out;
  }

  get lifecycle(): RuntimeLifecycle {
    return this.stopped ? 'stopped' : this.shuttingDown ? 'shutting-down' : 'running';
  }

  /** The root supervisors started with supervise() (children: Supervisor.children() and child(id)). */
  supervisors(): Supervisor[] {
    return [...this.roots];
  }

  /** The supervisor of actor `id`, if it is supervised. */
  supervisorOf(id: string): Supervisor | undefined {
    return this.owners.get(id);
  }

  /** The store's state: none configured, open (opened now if need be), or the reason it cannot be opened. */
  storeStatus(): { configured: boolean; open: boolean; error?: string } {
    if (this.dataDir === undefined) return { configured: false, open: false };
    if (this.stopped) return { configured: true, open: false, error: 'the runtime is shut down' };
    try {
      this.host.store();
      return { configured: true, open: true };
    } catch (err) {
      return { configured: true, open: false, error: String((err as Error)?.message ?? err) };
    }
  }

  /**
   * Restart a supervised actor as if it had crashed (an operator's restart): it is killed, and its supervisor
   * restarts it by its policy (counted in its restart intensity). Resolves once the old incarnation is gone.
   */
  async restart(ref: ActorRef): Promise<boolean> {
    if (this.stopped) throw new RuntimeStoppedError('the runtime is shut down');
    if (!this.owners.has(ref.id)) return false;
    await this.supervisionPort.kill(ref, 'restart requested');
    return true;
  }

  /** Close the open circuit of supervised actor `id` now and restart it (see Supervisor.resetCircuit). */
  resetCircuit(id: string): boolean {
    if (this.stopped) throw new RuntimeStoppedError('the runtime is shut down');
    return this.owners.get(id)?.resetCircuit(id) ?? false;
  }

  /**
   * Stop every supervision tree and actor, terminate the workers and release every handle, so the process can exit.
   * Supervised children stop by their shutdown policies. `graceMs`: the actors outside any tree are then stopped
   * gracefully too (each finishes the message in hand; what is queued is dead-lettered, or stays journaled), and
   * those not done within graceMs are killed. Without it they are killed at once.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.shuttingDown = true; // readiness fails from here on
    await this.cluster?.leave();
    for (const root of this.roots) await root.stop();
    if (options.graceMs !== undefined && options.graceMs > 0) await this.stopRemaining(options.graceMs);
    const pool = this.workerPool;
    pool?.closing();
    // Each worker closes its store and confirms; one that does not is terminated, never with a commit in flight.
    const done: Promise<WorkerStopOutcome>[] = [];
    for (let node = 1; node <= this.workerCount; node++) {
      if (!this.live(node)) continue;
      const confirmed = this.request(node, (req) => ({ op: 'shutdown', req }));
      done.push(stopWorker({ node, confirmed, fence: pool?.fenceOf(node), exited: () => pool?.exited(node) ?? true, log: rootLogger(), waiting: this.shutdownWaiting }));
    }
    this.host.transport.flush();
    const outcomes = await Promise.all(done);
    this.stopped = true;
    this.host.close();
    // A worker cut off during a commit may hold LMDB's write lock for good: then this thread's store stays open (its
    // close could be the environment's last and close it under that commit), and its own commits could wait forever.
    if (outcomes.includes('in-flight')) rootLogger().error('the store is left open: a worker was terminated during a commit');
    else if (!(await within(this.host.closeStore(), COMMITS_MS))) rootLogger().error('the store did not close in time: a commit of the main thread is not over');
    await pool?.terminate();
  }

  /** RuntimeHarness.shutdownWaiting, if any. */
  private readonly shutdownWaiting: ((node: number, commits: number) => void) | undefined;

  private async stopRemaining(graceMs: number): Promise<void> {
    const refs: ActorRef[] = [];
    for (const [id, reg] of this.registry) if (reg.node >= 0) refs.push({ id, kind: reg.kind, node: reg.node });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.all(refs.map((ref) => this.stop(ref))), late]).finally(() => clearTimeout(timer));
  }
}

/** The id of a requeued poison message: derived from the original (a retry of the requeue is recognised). */
function requeuedId(original: string, seq: number): string {
  const id = `${original}#requeued-${seq}`;
  try {
    validateMessageId(id);
    return id;
  } catch {
    // An original near the size limit: a digest of it stands in (still the same for every requeue of it).
    return `${createHash('sha256').update(original).digest('base64url')}#requeued-${seq}`;
  }
}

/** A definition's capabilities and a spawn's, without repeats; undefined when there are none. */
function mergeCapabilities(own: readonly string[] | undefined, added: readonly string[] | undefined): readonly string[] | undefined {
  if ((own === undefined || own.length === 0) && (added === undefined || added.length === 0)) return undefined;
  return Object.freeze([...new Set([...(own ?? []), ...(added ?? [])])]);
}
