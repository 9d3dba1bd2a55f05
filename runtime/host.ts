import type { ActorDefinition, ActorRef, Route, TerminationNotice } from '../actors/define.ts';
import { durableMailboxProblem, isActorDefinition } from '../actors/define.ts';
import type { SpawnOptions } from '../actors/context.ts';
import { createMailbox, type MailboxSpec } from '../mailbox/mailbox.ts';
import { envelope, type Envelope } from '../mailbox/envelope.ts';
import { Cell, SYS_STOP, SYS_TERMINATED, type Supervision } from './cell.ts';
import { CellContext } from './context.ts';
import type { Clock } from './clock.ts';
import { Deadlines } from './deadlines.ts';
import { Watches } from './watches.ts';
import { CellSupervision, type StandIn } from './supervision.ts';
import { DeadLetters } from './deadletters.ts';
import {
  ActorNotFoundError, ActorStoppedError, AskTimeoutError, CircuitOpenError, InvalidSpawnOptionError, DefinitionLoadError, DuplicateActorIdError, MailboxFullError,
  MessageNotCloneableError, UnknownMessageTypeError, RuntimeStoppedError, WorkerLostError, errorToData, reviveError, type ErrorData,
} from './errors.ts';
import { assertCloneable } from './cloneable.ts';
import { Op, ReplyCode, opArity, type Control } from './protocol.ts';
import { Scheduler, type SchedulingPolicy } from './scheduler.ts';
import { Transport, type Port } from './transport.ts';
import { Journaling } from './journaling.ts';
import { ActorStore } from '../persistence/store.ts';
import type { CommitGate } from '../persistence/group-commit.ts';
import { ActorPersistence } from './persist.ts';
import { Replays, queueJournal } from './replay.ts';
import type { ActorInspection, ActorStats, DeadLetterReason, NodeStats } from './stats.ts';
import { ThreadCounters, type KindMetrics, type ThreadMetrics } from './thread-metrics.ts';
import { Directory } from './directory.ts';
import type { HandlerTime, MissHandler, RemoteActors, RouteResolver, RuntimeHarness, ThreadServices } from './extensions.ts';
import { RouterNotInstalledError } from './errors.ts';

export const DEFAULT_ASK_TIMEOUT_MS = 5000;

interface PendingAsk {
  resolve(value: unknown): void;
  reject(err: Error): void;
  node: number;
  /** An ask (not a send's acknowledgement): its outcome is counted (runtime/thread-metrics.ts). */
  counted?: boolean;
}

export interface HostOptions {
  node: number;
  ports: (Port | undefined)[];
  clock: Clock;
  /**
   * The runtime's clock (the supervisors', on the main thread) read from this thread: circuit retry times are
   * in it (runtime/timebase.ts). Default: `clock`.
   */
  runtimeNow?: () => number;
  /** How the scheduler defers its next turn (setImmediate by default). */
  defer?: (fn: () => void) => void;
  /** How the scheduler shapes its turns (runtime/scheduler.ts; default: the production budgets, FIFO). */
  scheduling?: SchedulingPolicy;
  /** LMDB data directory for persistent actors (each thread opens the same environment). */
  dataDir?: string;
  /** Control operations addressed to this thread. */
  onControl(from: number, control: Control): void;
  /** How spawn and lookup requests made on this thread are served (the main thread owns the registry). */
  spawn(definition: ActorDefinition, options: SpawnOptions): Promise<ActorRef>;
  lookup(id: string): Promise<ActorRef | undefined>;
  /** How an actor module is imported by its file: URL (default: import(); workers: runtime/module-loader.ts). */
  importModule?: (url: string) => Promise<Record<string, unknown>>;
  /** Keep the introspection counters (runtime/thread-metrics.ts; default true). */
  metrics?: boolean;
  /** The runtime's randomness on this thread (backoff jitter; handlers read it through handlerTime). Default Math.random. */
  random?: () => number;
  /** Asked before each store commit starts (a worker's CommitFence, runtime/commit-fence.ts). */
  commitGate?: CommitGate;
  /** A deterministic harness's hooks (runtime/extensions.ts): definitions by actor id, stores as they open. */
  harness?: Pick<RuntimeHarness, 'definition' | 'storeOpened' | 'messageIdPrefix' | 'openStore'>;
}

/**
 * Everything one thread does for its actors: delivery into mailboxes, asks and their timeouts, replies, watches,
 * topics and dead letters. Same code on the main thread (node 0) and on every worker; what differs (spawning,
 * the registry) comes in through HostOptions.
 */
export class Host {
  readonly node: number;
  readonly actors = new Map<string, Cell>();
  readonly scheduler: Scheduler;
  readonly transport: Transport;
  readonly deadLetters: DeadLetters;
  readonly clock: Clock;
  /** This thread's clock and randomness as handlers see them (runtime/extensions.ts, handlerTime). */
  readonly handlerTime: HandlerTime;
  readonly counters: ThreadCounters;
  private readonly asks = new Map<number, PendingAsk>();
  private askSeq = 0;
  private readonly deadlines: Deadlines;
  private readonly topics = new Map<string, Set<Cell>>();
  private readonly watches = new Watches(this);
  private readonly supervision = new CellSupervision(this);
  private readonly journaling = new Journaling(this);
  /** Threads being replaced: their actors that will be restarted there, each with the stops issued meanwhile. */
  private readonly replacing = new Map<number, Map<string, string[]>>();
  private readonly replays = new Replays(this);
  private readonly definitions = new Map<string, ActorDefinition | Promise<ActorDefinition>>();
  private closed = false;
  private actorStore: ActorStore | undefined;
  /** Shutting down: the registry is dropped whole, so actors do not report one by one. */
  private closing = false;
  private elu = performance.eventLoopUtilization();
  /** The last actor delivered to (bursts go to one actor): saves a map lookup. A stopped cell is never reused. */
  private lastCell: Cell | undefined;
  /** Who offers which capabilities, on every thread (runtime/directory.ts). */
  readonly directory = new Directory();
  /** Resolves messages addressed by route (installed by the router: runtime/extensions.ts). */
  private router: RouteResolver | undefined;
  /** Takes messages for ids not hosted here, in a cluster (runtime/extensions.ts); never set otherwise. */
  private miss: MissHandler | undefined;
  /** Takes watches and stops of ids not hosted here, in a cluster (runtime/extensions.ts); never set otherwise. */
  remoteActors: RemoteActors | undefined;
  /** Applying an Op.Forward: the miss handler is told the message was passed on already. */
  private forwarded = false;

  constructor(private readonly opts: HostOptions) {
    this.node = opts.node;
    this.clock = opts.clock;
    this.handlerTime = { clock: opts.clock, random: opts.random ?? Math.random };
    this.counters = new ThreadCounters(opts.metrics ?? true);
    this.transport = new Transport(opts.node, opts.ports, (node, ops, err) => this.undeliverable(node, ops, err));
    this.scheduler = new Scheduler(opts.defer ?? setImmediate, () => this.transport.flush(), () => this.actorStore?.commitAboutToStart() === true, opts.scheduling);
    this.deadLetters = new DeadLetters(opts.node);
    this.deadlines = new Deadlines(
      opts.clock,
      (id) => {
        const pending = this.asks.get(id);
        if (pending === undefined) return;
        this.asks.delete(id);
        if (pending.counted === true) this.counters.asksTimeout++;
        pending.reject(new AskTimeoutError('ask timed out'));
      },
      { isPending: (id) => this.asks.has(id), pendingCount: () => this.asks.size },
    );
  }

  contextFor(cell: Cell): CellContext {
    return new CellContext(this, cell);
  }

  // ---- sending -------------------------------------------------------------------------------------------------

  /** `trace`: the sender's traceparent (runtime/tracing.ts), '' for none. */
  tell(ref: ActorRef | Route, type: string, payload: unknown, from: string, trace = ''): void {
    assertUserType(type);
    assertCloneable(payload, 'payload of', type);
    if (ref.id === undefined) return this.routes().tell(ref as Route, type, payload, from, trace);
    // Again to the actor last delivered to, here and running: straight to its mailbox (deliver() decides the rest).
    const cell = this.lastCell;
    if (cell !== undefined && cell.id === ref.id && ref.node === this.node && !cell.stopped && cell.phase === 'running'
      && cell.persistence?.durable !== true) {
      return this.queueTell(cell, type, payload, from, trace);
    }
    this.send(ref as ActorRef, type, payload, from, 0, trace);
  }

  ask(ref: ActorRef | Route, type: string, payload: unknown, from: string, timeoutMs?: number, trace = ''): Promise<unknown> {
    assertUserType(type);
    assertCloneable(payload, 'payload of', type);
    if (ref.id === undefined) return this.routes().ask(ref as Route, type, payload, from, timeoutMs, trace);
    return this.askChecked(ref as ActorRef, type, payload, from, timeoutMs, trace);
  }

  /** An ask whose type and payload were checked where it was made. */
  private askChecked(ref: ActorRef, type: string, payload: unknown, from: string, timeoutMs = DEFAULT_ASK_TIMEOUT_MS, trace = ''): Promise<unknown> {
    return this.expectReply(ref, timeoutMs, (id) => this.send(ref, type, payload, from, id, trace), this.counters.enabled);
  }

  /**
   * Send and be told once the message is accepted: for a durable mailbox, once it is journaled on disk (the
   * acknowledgement); otherwise once it is in the mailbox. A `messageId` makes a retried send recognisable.
   */
  sendAcknowledged(ref: ActorRef | Route, type: string, payload: unknown, from: string, messageId: string, timeoutMs?: number, trace = ''): Promise<unknown> {
    assertUserType(type);
    assertCloneable(payload, 'payload of', type);
    if (ref.id === undefined) return this.routes().send(ref as Route, type, payload, from, messageId, timeoutMs, trace);
    return this.sendChecked(ref as ActorRef, type, payload, from, messageId, timeoutMs, trace);
  }

  private sendChecked(ref: ActorRef, type: string, payload: unknown, from: string, messageId: string, timeoutMs = DEFAULT_ASK_TIMEOUT_MS, trace = ''): Promise<unknown> {
    return this.expectReply(ref, timeoutMs, (id) => {
      if (ref.node === this.node) return this.deliver(ref.id, type, payload, from, id, this.node, messageId, true, trace);
      if (!this.transport.has(ref.node)) {
        if (this.missedThread(ref, type, payload, from, id, messageId, true)) return;
        return this.settle(id, false, errorToData(new WorkerLostError(`thread ${ref.node} hosting ${ref.id} is gone`)));
      }
      this.transport.out(ref.node).push(Op.Send, ref.id, type, payload, from, id, messageId, trace);
      this.transport.requestFlush();
    });
  }

  private routes(): RouteResolver {
    if (this.router === undefined) {
      throw new RouterNotInstalledError("a message addressed by capability needs the router: import 'troupe' (or its router/index.ts) before Runtime.start");
    }
    return this.router;
  }

  /** Discovery through the router (ctx.find, runtime.capabilities). */
  find(route: Route): ReturnType<RouteResolver['find']> {
    return this.routes().find(route);
  }

  /** What a capability built on the kernel gets on this thread (runtime/extensions.ts). */
  services(random: () => number): ThreadServices {
    return {
      node: this.node,
      clock: this.clock,
      random,
      directory: this.directory,
      metrics: this.counters.enabled,
      localLoadProbe: (id) => {
        const cell = this.actors.get(id);
        // A stopped cell is never reused: the probe of one that stopped reads its drained mailbox (0).
        return cell === undefined ? undefined : () => cell.mailbox.size + (cell.busy ? 1 : 0);
      },
      tell: (ref, type, payload, from, trace = '') => this.send(ref, type, payload, from, 0, trace),
      ask: (ref, type, payload, from, timeoutMs, trace = '') => this.askChecked(ref, type, payload, from, timeoutMs, trace),
      send: (ref, type, payload, from, messageId, timeoutMs, trace = '') => this.sendChecked(ref, type, payload, from, messageId, timeoutMs, trace),
      deadLetter: (to, type, from, reason: DeadLetterReason, detail) => this.deadLetters.record(to, type, from, reason, detail),
      useRouter: (resolver) => {
        this.router = resolver;
      },
      countersSource: (read) => void this.counterSources.push(read),
      onMiss: (handler) => {
        this.miss = handler;
      },
      onRemoteActors: (handler) => {
        this.remoteActors = handler;
      },
      terminated: (node, id, kind, reason) => this.watches.notify(node, id, kind, reason),
      stop: (ref, reason) => this.stop(ref, reason),
      reply: (node, ask, ok, value) => this.replyTo(node, ask, ok, value),
      forward: (node, id, type, payload, from, ask, replyNode, messageId, ack) => {
        if (node === this.node) return this.deliver(id, type, payload, from, ask, replyNode, messageId, ack);
        if (!this.transport.has(node)) {
          if (ask !== 0) this.replyTo(replyNode, ask, false, errorToData(new WorkerLostError(`thread ${node} hosting ${id} is gone`)));
          return this.deadLetters.record(id, type, from, 'worker-lost');
        }
        this.transport.out(node).push(Op.Forward, id, type, payload, from, ask, replyNode, messageId, ack);
        this.transport.requestFlush();
      },
    };
  }

  /**
   * A ref naming a thread number this node does not have (in a cluster: a ref made on another node) goes to the miss
   * handler; a lost thread of this node does not (its actors are not elsewhere).
   */
  private missedThread(ref: ActorRef, type: string, payload: unknown, from: string, ask: number, messageId: string, ack: boolean): boolean {
    return this.miss !== undefined && ref.node >= this.opts.ports.length
      && this.miss(ref.id, type, payload, from, ask, this.node, messageId, ack, false);
  }

  /**
   * A ref naming a thread number this node does not have (in a cluster: made on another node) is, for stops and
   * watches, one for the main thread, which hands them to the cluster (as missedThread does for messages).
   */
  private onThisNode(ref: ActorRef): ActorRef {
    return this.miss !== undefined && ref.node >= this.opts.ports.length ? { id: ref.id, kind: ref.kind, node: 0 } : ref;
  }

  /** Register a pending reply (with its deadline) under a fresh id, then let `post` send the message carrying it. */
  private expectReply(ref: ActorRef, timeoutMs: number, post: (id: number) => void, counted = false): Promise<unknown> {
    if (this.closed) return Promise.reject(new RuntimeStoppedError('the runtime is shut down'));
    return new Promise((resolve, reject) => {
      const id = ++this.askSeq;
      this.asks.set(id, { resolve, reject, node: ref.node, counted });
      this.deadlines.add(id, timeoutMs);
      post(id);
    });
  }

  private send(ref: ActorRef, type: string, payload: unknown, from: string, ask: number, trace: string): void {
    if (ref.node === this.node) return this.deliver(ref.id, type, payload, from, ask, this.node, '', false, trace);
    if (!this.transport.has(ref.node)) {
      if (this.missedThread(ref, type, payload, from, ask, '', false)) return;
      if (ask !== 0) return this.settle(ask, false, errorToData(new WorkerLostError(`thread ${ref.node} hosting ${ref.id} is gone`)));
      return this.deadLetters.record(ref.id, type, from, 'worker-lost');
    }
    this.transport.outTraced(ref.node, trace).push(Op.Msg, ref.id, type, payload, from, ask);
    this.transport.requestFlush();
  }

  publish(topic: string, type: string, payload: unknown, from: string, trace = ''): void {
    assertUserType(type);
    assertCloneable(payload, 'payload of', type);
    for (let node = 0; node < this.opts.ports.length; node++) {
      if (node === this.node) this.deliverPublication(topic, type, payload, from, trace);
      else if (this.transport.has(node)) this.transport.out(node).push(Op.Publish, topic, type, payload, from, trace);
    }
    this.transport.requestFlush();
  }

  stop(ref: ActorRef, reason = 'stopped'): void {
    ref = this.onThisNode(ref);
    if (ref.node === this.node) return this.stopLocal(ref.id, reason);
    if (!this.transport.has(ref.node)) {
      // Its thread is being replaced and it will be restarted there: the stop goes once the thread is back.
      this.replacing.get(ref.node)?.get(ref.id)?.push(reason);
      return;
    }
    this.transport.out(ref.node).push(Op.Stop, ref.id, reason);
    this.transport.requestFlush();
  }

  /** `watcher` (a local actor id, or a callback for code outside actors) gets one notice when `ref` stops. */
  watch(watcher: string | ((notice: TerminationNotice) => void), ref: ActorRef): string {
    return this.watches.watch(watcher, this.onThisNode(ref));
  }

  unwatch(watcher: string, ref: ActorRef): void {
    this.watches.unwatch(watcher, this.onThisNode(ref));
  }

  subscribe(cell: Cell, topic: string): void {
    let subs = this.topics.get(topic);
    if (subs === undefined) this.topics.set(topic, (subs = new Set()));
    subs.add(cell);
    (cell.topics ??= new Set()).add(topic);
  }

  unsubscribe(cell: Cell, topic: string): void {
    this.topics.get(topic)?.delete(cell);
    cell.topics?.delete(topic);
  }

  spawn(definition: ActorDefinition, options: SpawnOptions): Promise<ActorRef> {
    return this.opts.spawn(definition, options);
  }

  lookup(id: string): Promise<ActorRef | undefined> {
    return this.opts.lookup(id);
  }

  // ---- receiving -----------------------------------------------------------------------------------------------

  /** A batch posted by thread `from`. */
  receive(from: number, ops: unknown[]): void {
    this.scheduler.deliverThenRun(() => this.apply(from, ops));
  }

  private apply(from: number, ops: unknown[]): void {
    let trace = ''; // the post's current one, for its Msg operations (Op.Trace)
    for (let i = 0; i < ops.length;) {
      switch (ops[i] as number) {
        case Op.Msg:
          this.deliver(ops[i + 1] as string, ops[i + 2] as string, ops[i + 3], ops[i + 4] as string, ops[i + 5] as number, from, '', false, trace);
          i += 6;
          break;
        case Op.Trace:
          trace = ops[i + 1] as string;
          i += 2;
          break;
        case Op.Reply:
          if ((ops[i + 2] as number) >= ReplyCode.Receipt) {
            this.settle(ops[i + 1] as number, true, { messageId: ops[i + 3], duplicate: ops[i + 2] === ReplyCode.DuplicateReceipt });
          } else this.settle(ops[i + 1] as number, ops[i + 2] === ReplyCode.Ok, ops[i + 3]);
          i += 4;
          break;
        case Op.Publish:
          this.deliverPublication(ops[i + 1] as string, ops[i + 2] as string, ops[i + 3], ops[i + 4] as string, ops[i + 5] as string);
          i += 6;
          break;
        case Op.Watch:
          this.watches.watchedBy(from, ops[i + 1] as string, ops[i + 2] as string);
          i += 3;
          break;
        case Op.Unwatch:
          this.watches.unwatchedBy(from, ops[i + 1] as string);
          i += 2;
          break;
        case Op.Terminated:
          this.watches.terminated(ops[i + 1] as string, ops[i + 2] as string, ops[i + 3] as string);
          i += 4;
          break;
        case Op.Stop:
          this.stopLocal(ops[i + 1] as string, ops[i + 2] as string, from);
          i += 3;
          break;
        case Op.Control:
          this.opts.onControl(from, ops[i + 1] as Control);
          i += 2;
          break;
        case Op.Send:
          this.deliver(ops[i + 1] as string, ops[i + 2] as string, ops[i + 3], ops[i + 4] as string, ops[i + 5] as number, from, ops[i + 6] as string, true, ops[i + 7] as string);
          i += 8;
          break;
        case Op.Forward:
          this.forwarded = true;
          try {
            this.deliver(ops[i + 1] as string, ops[i + 2] as string, ops[i + 3], ops[i + 4] as string, ops[i + 5] as number, ops[i + 6] as number, ops[i + 7] as string, ops[i + 8] as boolean);
          } finally {
            this.forwarded = false;
          }
          i += 9;
          break;
        default:
          throw new Error(`unknown op ${String(ops[i])} from thread ${from}`);
      }
    }
  }

  /** Post what is queued for other threads now instead of at the end of the turn (per-pair order is kept). */
  flushOutgoing(): void {
    this.transport.flush();
  }

  sendControl(node: number, control: Control): void {
    if (node === this.node) return this.opts.onControl(node, control);
    if (!this.transport.has(node)) return;
    this.transport.out(node).push(Op.Control, control);
    this.transport.requestFlush();
  }

  /** Deliver `env` again, to whichever actor now runs under `id` (a retry whose original failed to journal). */
  redeliver(id: string, env: Envelope, ack: boolean): void {
    this.deliver(id, env.type, env.payload, env.from, env.ask, env.replyNode, env.id, ack, env.trace);
  }

  /** `ack`: the ask is a send's acknowledgement, answered once the message is accepted, not when handled. */
  private deliver(id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId = '', ack = false, trace = ''): void {
    let cell = this.lastCell;
    if (cell === undefined || cell.id !== id || cell.stopped) this.lastCell = cell = this.actors.get(id);
    if (cell === undefined) {
      if (this.miss !== undefined && this.miss(id, type, payload, from, ask, replyNode, messageId, ack, this.forwarded)) return;
      if (ask !== 0) this.replyTo(replyNode, ask, false, errorToData(new ActorNotFoundError(`no actor with id '${id}'`)));
      return this.deadLetters.record(id, type, from, 'not-found');
    }
    if (cell.phase !== 'running') {
      if (cell.phase === 'half-open') cell.phase = 'trial'; // this message is the one trial
      else if (cell.phase === 'restarting') {
        if (cell.mailbox.size >= cell.supervision!.stash) {
          if (ask !== 0) this.replyTo(replyNode, ask, false, errorToData(new MailboxFullError(`${id} is restarting and its stash is full`)));
          return this.deadLetters.record(id, type, from, 'stash-full');
        }
      } else {
        if (ask !== 0) this.replyTo(replyNode, ask, false, errorToData(this.circuitOpen(cell)));
        return this.deadLetters.record(id, type, from, 'circuit-open');
      }
    }
    if (ask === 0 && messageId === '' && cell.persistence?.durable !== true) return this.queueTell(cell, type, payload, from, trace);
    const env = envelope(type, payload, from, ask, replyNode, messageId, trace);
    if (cell.persistence?.durable) return this.journaling.journal(cell, env, ack);
    if (ack) env.ask = 0;
    if (!cell.mailbox.offer(env)) {
      if (ask !== 0 && cell.mailbox.overflow === 'fail') {
        this.replyError(env, new MailboxFullError(`mailbox of ${cell.def.kind} (${id}) is full`));
      }
      return this.deadLetters.record(id, type, from, 'mailbox-full');
    }
    if (ack) this.ackTo(replyNode, ask, messageId, false);
    if (cell.runnable()) this.scheduler.schedule(cell);
  }

  /** A plain tell, the bulk of the traffic: queued as its fields, without an envelope object (mailbox/ring.ts). */
  private queueTell(cell: Cell, type: string, payload: unknown, from: string, trace: string): void {
    if (!cell.mailbox.offerTell(type, payload, from, trace)) return this.deadLetters.record(cell.id, type, from, 'mailbox-full');
    if (!cell.queued && cell.runnable()) this.scheduler.schedule(cell);
  }

  /** The harness's prefix for the ids of messages sent without one (undefined: a random one). */
  messageIdPrefix(): string | undefined {
    return this.opts.harness?.messageIdPrefix?.(this.node);
  }

  /** The LMDB store of this thread, opened on first use. */
  store(): ActorStore {
    if (this.opts.dataDir === undefined) {
      throw new InvalidSpawnOptionError('persistent actors need a data directory: Runtime.start({ dataDir })');
    }
    const c = this.counters;
    const observe = c.enabled ? { commit: (ms: number) => c.journalCommit.observe(ms), snapshot: (ms: number) => c.snapshot.observe(ms) } : undefined;
    if (this.actorStore !== undefined) return this.actorStore;
    const options = { timers: this.clock, observe, gate: this.opts.commitGate };
    this.actorStore = this.opts.harness?.openStore?.(this.opts.dataDir, options, this.node) ?? ActorStore.open(this.opts.dataDir, options);
    this.opts.harness?.storeOpened?.(this.actorStore, this.node);
    return this.actorStore;
  }

  /** Has this thread opened its store (and not closed it)? */
  get storeOpen(): boolean {
    return this.actorStore !== undefined;
  }

  circuitOpen(cell: Cell): CircuitOpenError {
    // retryAt is in the runtime's clock, as the supervisor that opened the circuit counts it.
    const retryInMs = Math.max(0, Math.round(cell.retryAt - (this.opts.runtimeNow?.() ?? this.clock.now())));
    const when = cell.phase === 'trial' ? 'a trial message is being handled' : `it will be tried again in ${retryInMs} ms`;
    return new CircuitOpenError(`circuit open for ${cell.def.kind} (${cell.id}): ${when}`, { details: { id: cell.id, retryInMs, phase: cell.phase } });
  }

  private deliverPublication(topic: string, type: string, payload: unknown, from: string, trace: string): void {
    const subs = this.topics.get(topic);
    if (subs === undefined) return;
    for (const cell of subs) this.deliver(cell.id, type, payload, from, 0, this.node, '', false, trace);
  }

  // ---- replies -------------------------------------------------------------------------------------------------

  reply(env: Envelope, value: unknown): void {
    try {
      assertCloneable(value, 'reply to', env.type);
    } catch (err) {
      return this.replyError(env, err as MessageNotCloneableError);
    }
    this.replyTo(env.replyNode, env.ask, true, value);
  }

  replyError(env: Envelope, err: Error): void {
    this.replyTo(env.replyNode, env.ask, false, errorToData(err));
  }

  private replyTo(node: number, ask: number, ok: boolean, value: unknown): void {
    if (node === this.node) return this.settle(ask, ok, value);
    if (!this.transport.has(node)) return;
    this.transport.out(node).push(Op.Reply, ask, ok ? ReplyCode.Ok : ReplyCode.Error, value);
    this.transport.requestFlush();
  }

  /** A send's acknowledgement, as two plain fields on the wire (no receipt object to clone per message). */
  ackTo(node: number, ask: number, messageId: string, duplicate: boolean): void {
    if (node === this.node) return this.settle(ask, true, { messageId, duplicate });
    if (!this.transport.has(node)) return;
    this.transport.out(node).push(Op.Reply, ask, duplicate ? ReplyCode.DuplicateReceipt : ReplyCode.Receipt, messageId);
    this.transport.requestFlush();
  }

  /** A reply arrived: settle the ask unless it already timed out (then the reply is dropped). */
  private settle(ask: number, ok: boolean, value: unknown): void {
    const pending = this.asks.get(ask);
    if (pending === undefined) return;
    this.asks.delete(ask);
    if (pending.counted === true) {
      if (ok) this.counters.asksOk++;
      else this.counters.asksError++;
    }
    if (ok) pending.resolve(value);
    else pending.reject(reviveError(value as ErrorData));
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------------

  /**
   * Create an actor on this thread. Throws DuplicateActorIdError, or whatever `init` throws. `standIn`: a supervised
   * actor lost with its thread, created again here not running (no init: its supervisor's decision restarts it).
   */
  createLocal(id: string, def: ActorDefinition, args: unknown, mailbox: MailboxSpec | undefined, supervision?: Supervision, standIn?: Pick<StandIn, 'phase' | 'retryAt'>): Cell {
    if (this.actors.has(id)) throw new DuplicateActorIdError(`an actor with id '${id}' is already running`);
    const durableProblem = durableMailboxProblem(def.persistence, mailbox);
    if (durableProblem !== undefined) throw new InvalidSpawnOptionError(`${def.kind}: ${durableProblem}`);
    if (def.persistence === undefined) {
      const cell = new Cell(this, id, def, args, standIn ? undefined : def.init(args), createMailbox(mailbox ?? def.mailbox), supervision);
      if (standIn) CellSupervision.standIn(cell, standIn);
      this.actors.set(id, cell);
      return cell;
    }
    // Resume from the last snapshot; journaled messages not yet handled go first, in order, before new ones.
    const { persistence, state, journal } = ActorPersistence.restore(this.store(), id, def, args, this.clock);
    const cell = new Cell(this, id, def, args, state, createMailbox(mailbox ?? def.mailbox), supervision);
    cell.persistence = persistence;
    if (standIn) CellSupervision.standIn(cell, standIn);
    queueJournal(cell, journal, this.node); // its head is counted before it is handed over (runtime/replay.ts)
    this.actors.set(id, cell);
    if (cell.runnable()) this.scheduler.schedule(cell);
    return cell;
  }

  /** The definition of `kind` exported by `module`, imported once per thread (or the harness's, for actor `id`). */
  definition(module: string, kind: string, id?: string): ActorDefinition | Promise<ActorDefinition> {
    const given = id === undefined ? undefined : this.opts.harness?.definition?.(module, kind, id);
    if (given !== undefined) return given;
    const key = `${module}#${kind}`;
    let found = this.definitions.get(key);
    if (found !== undefined) return found;
    found = (this.opts.importModule ?? ((url: string) => import(url)))(module).then(
      (mod: Record<string, unknown>) => {
        const def = Object.values(mod).find((v) => isActorDefinition(v) && v.kind === kind) as ActorDefinition | undefined;
        if (def === undefined) throw new DefinitionLoadError(`${module} exports no actor definition of kind '${kind}'`);
        this.definitions.set(key, def);
        return def;
      },
      (err: unknown) => {
        throw new DefinitionLoadError(`cannot load ${module}: ${(err as Error)?.message ?? err}`, { cause: err });
      },
    );
    found.catch(() => this.definitions.delete(key));
    this.definitions.set(key, found);
    return found;
  }

  private stopLocal(id: string, reason: string, from = this.node): void {
    const cell = this.actors.get(id);
    if (cell === undefined) return void this.remoteActors?.stop(id, reason, from);
    if (cell.stopped) return;
    // Not running (restarting, circuit open): nothing to finish, stop now.
    if (cell.phase === 'restarting' || cell.phase === 'open') return this.terminate(cell, reason);
    // A system message: it overtakes user mail, and waits for a running async handler to settle.
    if (cell.supervision !== undefined) cell.supervision.stopping ??= reason; // a crash meanwhile stops it too
    cell.mailbox.offerSystem(envelope(SYS_STOP, reason, '', 0, this.node));
    if (!cell.busy) this.scheduler.schedule(cell);
  }

  /** Final stop: what is still queued becomes dead letters, watchers are told, the id is released. */
  terminate(cell: Cell, reason: string): void {
    if (this.lastCell === cell) this.lastCell = undefined; // not kept alive by the delivery cache
    cell.flushTypeCount();
    if (cell.busy) cell.abandon(() => new ActorStoppedError(`${cell.def.kind} (${cell.id}) was killed (${reason})`));
    cell.stopped = true;
    const written = cell.persistence?.flush();
    this.actors.delete(cell.id);
    for (const env of cell.mailbox.drain()) {
      if (env.type === SYS_STOP || env.type === SYS_TERMINATED) continue;
      if (env.ask !== 0) this.replyError(env, new ActorStoppedError(`${cell.def.kind} (${cell.id}) stopped before handling '${env.type}'`));
      // A journaled message is not lost: it stays in the journal and is handled when the actor next starts.
      if (env.seq === 0) this.deadLetters.record(cell.id, env.type, env.from, 'stopped');
    }
    if (cell.topics) for (const topic of cell.topics) this.topics.get(topic)?.delete(cell);
    this.watches.forget(cell.id);
    // A persistent actor is reported gone once its last writes are durable: whoever starts it again reads them.
    if (written === undefined) this.announceGone(cell, reason);
    else void written.then(() => this.announceGone(cell, reason));
  }

  private announceGone(cell: Cell, reason: string): void {
    this.watches.announce(cell, reason);
    if (!this.closing) this.sendControl(0, { op: 'gone', id: cell.id, reason });
  }

  /** A durable actor took the head of its restored journal: count it, then deliver or set it aside (replay.ts). */
  replay(cell: Cell, probe: Envelope): void {
    this.replays.begin(cell, probe);
  }

  /** A reply this thread waits for without a deadline: the outcome of a replayed message (runtime/replay.ts). */
  localReply(): { ask: number; outcome: Promise<unknown> } {
    const ask = ++this.askSeq;
    const outcome = new Promise<unknown>((resolve, reject) => this.asks.set(ask, { resolve, reject, node: this.node }));
    return { ask, outcome };
  }

  /** A handler threw: see CellSupervision (runtime/supervision.ts). */
  crashed(cell: Cell, env: Envelope, err: unknown): void {
    if (cell.counters !== undefined) {
      cell.counters.crashed++;
      cell.counters.crashedType(env.type);
    }
    this.supervision.crashed(cell, env, err);
  }

  trialSucceeded(cell: Cell): void {
    this.supervision.trialSucceeded(cell);
  }

  /** A supervisor's decision about one of its children hosted here. Returns false for other controls. */
  supervise(c: Control): boolean {
    return this.supervision.handle(c);
  }

  /**
   * Thread `node` died: fail asks waiting on it and stop sending to it. Watchers of its actors are told, except for
   * `survivors` (supervised actors that will be restarted there: their watches are renewed by `rewatch`).
   */
  nodeLost(node: number, survivors: readonly string[]): void {
    this.transport.disconnect(node);
    for (const [id, pending] of this.asks) {
      if (pending.node !== node) continue;
      this.asks.delete(id);
      if (pending.counted === true) this.counters.asksError++;
      pending.reject(new WorkerLostError(`thread ${node} died before replying`));
    }
    this.replacing.set(node, new Map(survivors.map((id) => [id, []])));
    this.watches.lost(node, this.replacing.get(node)!);
    this.remoteActors?.threadLost?.(node);
  }

  /**
   * A replacement thread took over `node`: register again the watches this thread holds on actors there, and send
   * the stops issued meanwhile to the actors that were restarted there.
   */
  rewatch(node: number): void {
    const held = this.replacing.get(node);
    this.replacing.delete(node);
    this.watches.renew(node);
    if (held === undefined || !this.transport.has(node)) return; // not replaced after all: nobody to stop
    for (const [id, reasons] of held) for (const reason of reasons) this.transport.out(node).push(Op.Stop, id, reason);
    this.transport.requestFlush();
  }

  /** Is `id`, lost with thread `node`, to be restarted there once the thread is replaced? */
  survives(node: number, id: string): boolean {
    return this.replacing.get(node)?.has(id) === true;
  }

  /** Connect (or reconnect, after a replacement) the channel to `node`. */
  connect(node: number, port: Port & { on?(event: 'message', fn: (ops: unknown[]) => void): unknown }): void {
    this.transport.connect(node, port);
    port.on?.('message', (ops: unknown[]) => this.receive(node, ops));
  }

  private undeliverable(node: number, ops: unknown[], err: unknown): void {
    for (let i = 0; i < ops.length;) {
      const op = ops[i] as number;
      if (op === Op.Msg) {
        const [to, type, , from, ask] = ops.slice(i + 1, i + 6) as [string, string, unknown, string, number];
        const reason = this.transport.has(node) ? 'not-cloneable' : 'worker-lost';
        this.deadLetters.record(to, type, from, reason, (err as Error)?.message);
        const error = reason === 'worker-lost' ? new WorkerLostError(`thread ${node} is gone`) : new MessageNotCloneableError(String((err as Error)?.message));
        if (ask !== 0) this.settle(ask, false, errorToData(error));
      } else if (op === Op.Forward) {
        // Passed on for an asker elsewhere (a cluster): that thread's wait is answered here, not by its own nodeLost.
        const [to, type, , from, ask, replyNode] = ops.slice(i + 1, i + 7) as [string, string, unknown, string, number, number];
        this.deadLetters.record(to, type, from, 'worker-lost', (err as Error)?.message);
        if (ask !== 0) this.replyTo(replyNode, ask, false, errorToData(new WorkerLostError(`thread ${node} is gone`)));
      }
      i += 1 + opArity[op];
    }
  }

  // ---- introspection and shutdown ------------------------------------------------------------------------------

  stats(withActors: boolean): NodeStats {
    const actors: ActorStats[] = [];
    if (withActors) {
      for (const cell of this.actors.values()) {
        actors.push({
          id: cell.id, kind: cell.def.kind, node: this.node, handled: cell.handled, mailboxDepth: cell.mailbox.size,
          handlingMs: cell.handlingMs, phase: cell.phase, incarnation: cell.incarnation,
        });
      }
    }
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    return {
      node: this.node, actors, actorCount: this.actors.size, eventLoopUtilization: elu.utilization,
      deadLetters: { ...this.deadLetters.counts }, recentDeadLetters: this.deadLetters.latest(),
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  }

  /** Capabilities' own counters (ThreadServices.countersSource), read with this thread's metrics. */
  private readonly counterSources: Array<() => Readonly<Record<string, number>>> = [];

  /** This thread's counters and gauges, per actor kind (runtime/thread-metrics.ts). */
  metrics(): ThreadMetrics {
    const kinds: Record<string, KindMetrics> = {};
    const kindOf = (kind: string): KindMetrics => (kinds[kind] ??= {
      handled: 0, crashed: 0, restarts: 0, transitions: { open: 0, 'half-open': 0, closed: 0 },
      handling: { counts: [], sumMs: 0, count: 0 }, types: {}, phases: {}, mailboxDepth: 0,
    });
    for (const cell of this.actors.values()) cell.flushTypeCount();
    for (const [kind, c] of this.counters.allKinds()) {
      const k = kindOf(kind);
      k.handled = c.handled;
      k.crashed = c.crashed;
      k.restarts = c.restarts;
      k.transitions = { open: c.toOpen, 'half-open': c.toHalfOpen, closed: c.toClosed };
      k.handling = c.handling.data();
      for (const [type, t] of c.types) k.types[type] = { handled: t.handled, crashed: t.crashed };
    }
    let journalDepth = 0;
    for (const cell of this.actors.values()) {
      const k = kindOf(cell.def.kind);
      k.phases[cell.phase] = (k.phases[cell.phase] ?? 0) + 1;
      k.mailboxDepth += cell.mailbox.size;
      if (cell.persistence?.durable === true) journalDepth += cell.persistence.pending;
    }
    const elu = performance.eventLoopUtilization(this.metricsElu);
    this.metricsElu = performance.eventLoopUtilization();
    const c = this.counters;
    const extra: Record<string, number> = {};
    if (c.enabled) for (const read of this.counterSources) Object.assign(extra, read()); // none with metrics off
    return {
      node: this.node, epoch: this.epoch, kinds, deadLetters: { ...this.deadLetters.counts } as Record<string, number>, extra,
      asks: { ok: c.asksOk, error: c.asksError, timeout: c.asksTimeout }, journalDepth,
      journalCommit: c.journalCommit.data(), snapshot: c.snapshot.data(),
      eventLoopUtilization: elu.utilization, heapUsedBytes: process.memoryUsage().heapUsed,
    };
  }

  /** Which incarnation of this thread counted (ThreadMetrics.epoch; worker threads share the process's timeOrigin). */
  private readonly epoch = Math.random();

  /** Its own baseline: a metrics scrape does not reset what stats() reports, nor the other way round. */
  private metricsElu = performance.eventLoopUtilization();

  /** One actor here, its committed state included when `withState`; undefined when there is none. */
  inspect(id: string, withState: boolean): ActorInspection | undefined {
    const cell = this.actors.get(id);
    if (cell === undefined) return undefined;
    const info: ActorInspection = {
      id, kind: cell.def.kind, node: this.node, mailboxDepth: cell.mailbox.size, phase: cell.phase, incarnation: cell.incarnation,
      handled: cell.handled, handlingMs: cell.handlingMs, busy: cell.busy, supervised: cell.supervision !== undefined,
      persistent: cell.persistence !== undefined, messageTypes: Object.keys(cell.def.handlers),
    };
    if (withState) info.state = cell.state;
    return info;
  }

  /** Stop every actor here (their queued mail becomes dead letters) and fail every ask still waiting. */
  close(): void {
    this.closing = true;
    for (const cell of [...this.actors.values()]) this.terminate(cell, 'shutdown');
    this.closed = true;
    for (const [, pending] of this.asks) pending.reject(new RuntimeStoppedError('the runtime was shut down'));
    this.asks.clear();
    this.deadlines.clear();
    this.transport.flush();
  }

  /** Wait for pending writes and close this thread's store (after close()). */
  async closeStore(): Promise<void> {
    await this.actorStore?.close();
    this.actorStore = undefined;
  }
}

/**
 * A message type is a non-empty string not starting with '$' (reserved for the runtime's own messages: a user
 * message named '$stop' must not stop an actor). Checked where the message is sent, on every path.
 */
function assertUserType(type: unknown): void {
  if (typeof type !== 'string' || type.length === 0 || type.charCodeAt(0) === 36) {
    throw new UnknownMessageTypeError(`message type ${JSON.stringify(type)} is not valid: a non-empty string not starting with $`);
  }
}
