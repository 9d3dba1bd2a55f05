import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import type { Clock } from '../runtime/clock.ts';
import { drainLostThread, threadExtensions, type RuntimeHarness } from '../runtime/extensions.ts';
import { InvalidSimulationOptionError } from './errors.ts';
import type { Host } from '../runtime/host.ts';
import { Op, opArity } from '../runtime/protocol.ts';
import { runThread, type WorkerBoot } from '../runtime/thread.ts';
import type { ThreadHandle, ThreadLauncher } from '../runtime/threads.ts';
import type { ActorStore } from '../persistence/store.ts';
import type { SimLoop } from './loop.ts';
import type { SeededRandom } from './random.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** What simulated threads need of their simulation. */
export interface ThreadWiring {
  clock: VirtualClock;
  loop: SimLoop;
  /** Forked per thread started, in start order (its scheduler's picks, its router's randomness). */
  random: SeededRandom;
  /** Extra virtual ms a post from thread `from` to thread `to` travels (the seed's delivery delay). */
  delay(from: number, to: number): number;
  /** The harness hooks every thread's code gets (the runtime's own: definitions by id, stores, routers' services). */
  harness: Required<Pick<RuntimeHarness, 'definition' | 'storeOpened' | 'services' | 'messageIdPrefix' | 'openStore'>>;
  /** The store handle of a thread that died: nothing more it asks reaches the disk. */
  storeDied(store: ActorStore): void;
  record(what: string, actor: string, detail: string): void;
  /** A message to actor `to` went down with thread `node` (in its mailbox, its outbox, or on its way to it). */
  lost(to: string, type: string, node: number): void;
}

/** A thread's timers on the virtual clock, all cleared at once when the thread dies. */
class ThreadClock implements Clock {
  private readonly timers = new Set<unknown>();
  constructor(private readonly clock: VirtualClock) {}
  now(): number {
    return this.clock.now();
  }
  setTimer(fn: () => void, ms: number): unknown {
    const handle: unknown = this.clock.setTimer(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle);
    this.clock.clearTimer(handle);
  }
  stop(): void {
    for (const handle of this.timers) this.clock.clearTimer(handle);
    this.timers.clear();
  }
}

/** One simulated worker thread (one incarnation of thread number `node`). */
export class SimThread {
  alive = true;
  host: Host | undefined;
  store: ActorStore | undefined;
  readonly clock: ThreadClock;
  constructor(readonly node: number, clock: VirtualClock) {
    this.clock = new ThreadClock(clock);
  }
}

/**
 * One end of a simulated MessageChannel. What is posted is cloned (as postMessage would: threads share no objects)
 * and lands through the simulation's channel from the sender's thread to the receiver's, in order, when the seed says.
 * Nothing leaves a dead thread; what arrives for one is lost with it.
 */
class SimPort {
  peer!: SimPort;
  /** The thread holding this end (undefined: the main thread, node 0). */
  owner: SimThread | undefined;
  node = 0;
  closed = false;
  private readonly listeners: Array<(value: unknown) => void> = [];
  /** Landed before anyone listened (a real port holds them until it is started). */
  private held: unknown[] | undefined = [];

  constructor(private readonly threads: SimThreads) {}

  give(owner: SimThread | undefined, node: number): void {
    this.owner = owner;
    this.node = node;
  }

  on(event: string, fn: (value: unknown) => void): this {
    if (event !== 'message') return this;
    this.listeners.push(fn);
    const held = this.held;
    if (held !== undefined && held.length > 0) queueMicrotask(() => held.forEach((v) => fn(v)));
    this.held = undefined;
    return this;
  }

  postMessage(value: unknown, transfer?: readonly unknown[]): void {
    this.threads.post(this, value, transfer as SimPort[] | undefined);
  }

  close(): void {
    this.closed = true;
  }

  receive(value: unknown): void {
    if (this.held !== undefined) this.held.push(value);
    else for (const fn of this.listeners) fn(value);
  }
}

/** The main thread's handle on a simulated thread: what the pool uses of a Worker. */
class SimWorker extends EventEmitter {
  constructor(readonly thread: SimThread, private readonly port: SimPort, private readonly threads: SimThreads) {
    super();
    port.on('message', (v) => this.emit('message', v));
  }
  postMessage(value: unknown, transfer?: readonly unknown[]): void {
    for (const p of (transfer ?? []) as SimPort[]) p.give(this.thread, this.thread.node);
    this.port.postMessage(value, transfer);
  }
  terminate(): Promise<number> {
    this.threads.kill(this.thread, 'terminated');
    return Promise.resolve(1);
  }
}

const OP_NAMES: Record<number, string> = { [Op.Reply]: 'reply', [Op.Publish]: 'publish', [Op.Watch]: 'watch', [Op.Unwatch]: 'unwatch', [Op.Terminated]: 'terminated', [Op.Stop]: 'stop', [Op.Forward]: 'forward' };

/** A batch as a short label for the trace: `<to> '<type>'` per message, the op of a control, the name of the rest. */
function describe(value: unknown): string {
  if (!Array.isArray(value)) return typeof value === 'string' ? value : 'boot';
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 1 + (opArity[value[i] as number] ?? 0)) {
    const op = value[i] as number;
    if (op === Op.Msg || op === Op.Send) parts.push(`${value[i + 1]} '${value[i + 2]}'`);
    else if (op === Op.Trace) continue; // the trace of the messages after it, not an operation of its own
    else if (op === Op.Control) parts.push(`${(value[i + 1] as { op: string }).op}`);
    else parts.push(OP_NAMES[op] ?? `op ${op}`);
  }
  return parts.join(', ');
}

/** The messages to actors in a batch (what is lost when the batch is). */
function messagesIn(value: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(value)) return out;
  for (let i = 0; i < value.length; i += 1 + (opArity[value[i] as number] ?? 0)) {
    const op = value[i] as number;
    if (op === Op.Msg || op === Op.Send || op === Op.Forward) out.push([value[i + 1] as string, value[i + 2] as string]);
  }
  return out;
}

/**
 * Simulated worker threads (RuntimeHarness.threads): the runtime's own thread code (runtime/thread.ts) runs for
 * each, in this one real thread, on the virtual clock and with the seed's scheduling, and the pool, placement and
 * lost-thread recovery of the runtime are the real ones. Every post between two threads lands in a step of its own,
 * in order per pair of threads. `kill` is a lost thread: nothing more runs or leaves there, and the main thread hears
 * the thread's exit after everything it posted before it died, as the pool would.
 */
export class SimThreads implements ThreadLauncher {
  readonly current = new Map<number, SimThread>();
  /** The whole system died (a crash-system fault): nothing of this incarnation runs or lands again. */
  private dead = false;
  private started = 0;
  private readonly handles = new Map<SimThread, SimWorker>();

  constructor(private readonly wiring: ThreadWiring) {}

  channel(): { port1: MessagePort; port2: MessagePort } {
    const port1 = new SimPort(this);
    const port2 = new SimPort(this);
    port1.peer = port2;
    port2.peer = port1;
    return { port1: port1 as unknown as MessagePort, port2: port2 as unknown as MessagePort };
  }

  /** (The ports a thread takes are the ones in its boot: the transfer list adds nothing in one realm.) */
  start(data: WorkerBoot | { spare: true }, _transfer: MessagePort[]): ThreadHandle {
    if ('spare' in data) throw new InvalidSimulationOptionError('simulated threads have no spare: start the runtime with spareWorker: false (as Simulation.start does)', { details: { option: 'spareWorker' } });
    const boot = data;
    const thread = new SimThread(boot.node, this.wiring.clock);
    this.current.set(boot.node, thread);
    boot.ports.forEach((p, other) => {
      if (p === undefined) return;
      const port = p as unknown as SimPort;
      port.give(thread, boot.node);
      port.peer.node = other;
    });
    const { port1: mainSide, port2: threadSide } = this.channel() as unknown as { port1: SimPort; port2: SimPort };
    mainSide.give(undefined, 0);
    threadSide.give(thread, boot.node);
    const handle = new SimWorker(thread, mainSide, this);
    this.handles.set(thread, handle);
    const random = this.wiring.random.fork(++this.started);
    const picks = random.fork(1);
    const loop = this.wiring.loop;
    this.wiring.record('thread', `thread ${boot.node}`, `starts${boot.standIns?.length ? ` with ${boot.standIns.length} stand-in(s)` : ''}`);
    void runThread({ ...boot, extensions: [] }, threadSide, {
      clock: thread.clock,
      runtimeNow: () => this.wiring.clock.now(),
      defer: (fn) => {
        if (thread.alive && !this.dead) loop.defer(() => (thread.alive ? fn() : undefined));
      },
      scheduling: { turnBudget: 1, slice: 1, pick: (n) => picks.int(n) },
      random: () => random.next(),
      extensions: threadExtensions(),
      harness: {
        ...this.wiring.harness,
        storeOpened: (store, node) => {
          thread.store = store;
          this.wiring.harness.storeOpened(store, node);
        },
      },
    }).then(
      (host) => void (thread.host = host),
      // A thread that cannot start fails its boot, as a worker whose module throws does (the pool's 'error').
      (err: unknown) => {
        this.wiring.record('thread', `thread ${boot.node}`, `failed to start: ${(err as Error)?.message ?? String(err)}`);
        thread.alive = false;
        handle.emit('error', err);
      },
    );
    return handle as unknown as ThreadHandle;
  }

  /** Post from `port`'s thread to its peer's: cloned now, landing in the seeded channel between the two threads. */
  post(port: SimPort, value: unknown, transfer: SimPort[] | undefined): void {
    if (this.dead || port.closed) return;
    if (port.owner !== undefined && !port.owner.alive) return this.lose(value, port.owner.node);
    const copy = transfer !== undefined && transfer.length > 0 ? value : structuredClone(value);
    const target = port.peer;
    const from = port.node;
    const to = target.node;
    this.wiring.loop.deliver(`thread ${from}`, `thread ${to}`, describe(copy), this.wiring.delay(from, to), () => {
      if (this.dead) return;
      if (target.owner !== undefined && !target.owner.alive) return this.lose(copy, to);
      target.receive(copy);
    });
  }

  private lose(value: unknown, node: number): void {
    for (const [to, type] of messagesIn(value)) this.wiring.lost(to, type, node);
  }

  /**
   * Thread `thread` dies now, as a worker does on a native crash: its timers and turns are gone, what waits in its
   * mailboxes is lost, its store handle is closed, and the main thread hears of the exit after what it posted before.
   */
  kill(thread: SimThread, why: string): void {
    if (!thread.alive) return;
    thread.alive = false;
    thread.clock.stop();
    if (this.current.get(thread.node) === thread) this.current.delete(thread.node);
    // What waits in its mailboxes is lost (counted once the step that killed it is done: a handler there may be
    // running now, and its mailbox is not to be touched under it).
    queueMicrotask(() => {
      if (thread.host !== undefined) for (const [to, type] of drainLostThread(thread.host)) this.wiring.lost(to, type, thread.node);
    });
    if (thread.store !== undefined) this.wiring.storeDied(thread.store);
    this.wiring.record('thread', `thread ${thread.node}`, `lost: ${why}`);
    if (why === 'terminated') return; // the pool terminated it (shutdown): no exit to report
    const handle = this.handles.get(thread)!;
    this.wiring.loop.deliver(`thread ${thread.node}`, 'thread 0', 'exit', 0, () => {
      if (!this.dead) handle.emit('exit', 1);
    });
  }

  /** Thread `node` as it runs now, if it does. */
  thread(node: number): SimThread | undefined {
    return this.current.get(node);
  }

  /** The whole system is gone: nothing of it runs or lands again. */
  abandon(): void {
    this.dead = true;
    for (const t of this.current.values()) {
      t.alive = false;
      t.clock.stop();
    }
  }
}
