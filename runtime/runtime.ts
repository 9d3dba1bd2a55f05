import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { nanoid } from 'nanoid';
import type { ActorDefinition, ActorRef, AskArgs, MessageType, PayloadArgs, Reply, TerminationNotice } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { Messaging, SpawnOptions } from '../actors/context.ts';
import { Host } from './host.ts';
import { systemClock, type Clock } from './clock.ts';
import { DuplicateActorIdError, InvalidDefinitionError, RuntimeStoppedError, errorToData, reviveError, type ErrorData } from './errors.ts';
import { assertCloneable } from './cloneable.ts';
import { choosePlacement } from './placement.ts';
import { validateSpawnOptions, validateStartOptions } from './validate.ts';
import { Op, type Control } from './protocol.ts';
import type { DeadLetter, RuntimeStats } from './stats.ts';
import type { WorkerBoot } from './worker.ts';

export interface RuntimeOptions {
  /** Worker threads to host actors (default: available parallelism). 0 runs every actor on the calling thread. */
  workers?: number;
  /** Injected time source for ask timeouts (default: the system clock). */
  clock?: Clock;
  /** How the main thread's scheduler defers a turn (default: setImmediate). */
  defer?: (fn: () => void) => void;
}

interface Registration {
  node: number;
  kind: string;
}

const workerEntry = new URL('./worker-entry.mjs', import.meta.url);

/**
 * The runtime, seen from the thread that started it (node 0). It owns the registry of actor ids and the worker
 * pool; messages between actors never pass through here unless an actor lives here.
 */
export class Runtime implements Messaging {
  private readonly host: Host;
  private readonly registry = new Map<string, Registration>();
  private readonly loads: number[];
  private readonly workers: (Worker | undefined)[] = [undefined];
  private readonly requests = new Map<number, (c: Control) => void>();
  private reqSeq = 0;
  private stopped = false;

  private constructor(readonly workerCount: number, options: RuntimeOptions, ports: (Worker | undefined)[]) {
    this.loads = new Array(workerCount + 1).fill(0);
    this.workers = ports;
    this.host = new Host({
      node: 0,
      ports: ports.map((w) => w),
      clock: options.clock ?? systemClock,
      defer: options.defer,
      onControl: (from, c) => this.onControl(from, c),
      spawn: (def, opts) => this.spawn(def, opts),
      lookup: (id) => this.lookup(id),
    });
  }

  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    if ((globalThis as { __troupeWorker?: boolean }).__troupeWorker) {
      // A worker imported a module that starts a runtime at top level: it would recurse forever.
      throw new InvalidDefinitionError('Runtime.start() ran inside a Troupe worker while it loaded an actor module: '
        + 'keep actor definitions in modules without top-level side effects');
    }
    validateStartOptions(options);
    const count = options.workers ?? availableParallelism();
    const workers: (Worker | undefined)[] = [undefined];
    const meshes: (MessagePort | undefined)[][] = [];
    for (let i = 1; i <= count; i++) meshes[i] = new Array(count + 1).fill(undefined);
    for (let i = 1; i <= count; i++) {
      for (let j = i + 1; j <= count; j++) {
        const { port1, port2 } = new MessageChannel();
        meshes[i][j] = port1;
        meshes[j][i] = port2;
      }
    }
    const ready: Promise<void>[] = [];
    for (let node = 1; node <= count; node++) {
      const boot: WorkerBoot = { node, ports: meshes[node] };
      const transfer = meshes[node].filter((p): p is MessagePort => p !== undefined);
      const worker = new Worker(workerEntry, { workerData: boot, transferList: transfer });
      workers[node] = worker;
      ready.push(new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      }));
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w?.terminate()));
      throw err;
    }
    const runtime = new Runtime(count, options, workers);
    for (let node = 1; node <= count; node++) runtime.attach(node, workers[node]!);
    return runtime;
  }

  private attach(node: number, worker: Worker): void {
    worker.on('message', (ops: unknown[]) => this.host.receive(node, ops));
    worker.on('error', () => {}); // the exit that follows is what we act on
    worker.on('exit', () => {
      if (this.stopped) return;
      this.workers[node] = undefined;
      for (const [id, reg] of this.registry) if (reg.node === node) this.registry.delete(id);
      this.loads[node] = 0;
      this.host.nodeLost(node);
      for (let other = 1; other <= this.workerCount; other++) if (other !== node) this.host.sendControl(other, { op: 'node-lost', node });
    });
  }

  // ---- messaging ----------------------------------------------------------------------------------------------

  tell<D extends ActorDefinition, K extends MessageType<D>>(ref: ActorRef<D>, type: K, ...payload: PayloadArgs<D, K>): void {
    if (this.stopped) return this.host.deadLetters.record(ref.id, type, '', 'stopped');
    this.host.tell(ref, type, (payload as unknown[])[0], '');
  }

  ask<D extends ActorDefinition, K extends MessageType<D>>(ref: ActorRef<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>> {
    const options = args[1] as { timeoutMs?: number } | undefined;
    return this.host.ask(ref, type, args[0], '', options?.timeoutMs) as Promise<Reply<D, K>>;
  }

  publish(topic: string, type: string, payload?: unknown): void {
    this.host.publish(topic, type, payload, '');
  }

  async lookup(id: string): Promise<ActorRef | undefined> {
    const reg = this.registry.get(id);
    return reg === undefined || reg.node < 0 ? undefined : { id, kind: reg.kind, node: reg.node };
  }

  /** Stop an actor; resolves once it has terminated (its current message finished, the rest dead-lettered). */
  stop(ref: ActorRef): Promise<void> {
    return new Promise((resolve) => {
      this.host.watch(() => resolve(), ref);
      this.host.stop(ref);
    });
  }

  /** Call `onTerminated` once when `ref` stops (at once if it is already gone). Returns the unwatch function. */
  watch(ref: ActorRef, onTerminated: (notice: TerminationNotice) => void): () => void {
    const id = this.host.watch(onTerminated, ref);
    return () => this.host.unwatch(id, ref);
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

  private async place(module: string, kind: string, options: SpawnOptions, local?: ActorDefinition): Promise<ActorRef> {
    const id = options.id ?? nanoid();
    if (this.registry.has(id)) throw new DuplicateActorIdError(`an actor with id '${id}' is already running`);
    assertCloneable(options.args, 'spawn args');
    const node = choosePlacement({ pin: options.pin, nearNode: options.near?.node }, this.loads, (n) => this.live(n));
    this.registry.set(id, { node: -1, kind }); // reserved: a concurrent spawn of the same id fails at once
    this.loads[node]++;
    try {
      if (node === 0) {
        const def = local ?? (await this.host.definition(module, kind));
        this.host.createLocal(id, def, options.args, options.mailbox);
      } else {
        const res = await this.request(node, (req) => ({ op: 'spawn', req, id, module, kind, args: options.args, mailbox: options.mailbox }));
        if (res.op === 'spawned' && res.error) throw reviveError(res.error);
      }
    } catch (err) {
      this.registry.delete(id);
      this.loads[node]--;
      throw err;
    }
    this.registry.set(id, { node, kind });
    return Object.freeze({ id, kind, node });
  }

  private live(node: number): boolean {
    return node === 0 || this.workers[node] !== undefined;
  }

  private request(node: number, make: (req: number) => Control): Promise<Control> {
    return new Promise((resolve, reject) => {
      if (!this.live(node)) return reject(new RuntimeStoppedError(`thread ${node} is not running`));
      const req = ++this.reqSeq;
      this.requests.set(req, resolve);
      this.host.sendControl(node, make(req));
    });
  }

  private onControl(from: number, c: Control): void {
    switch (c.op) {
      case 'gone': {
        const reg = this.registry.get(c.id);
        if (reg !== undefined && reg.node === from) {
          this.registry.delete(c.id);
          this.loads[from]--;
        }
        return;
      }
      case 'spawn-request':
        return void this.place(c.module, c.kind, c.options as SpawnOptions).then(
          (ref) => this.host.sendControl(from, { op: 'spawn-result', req: c.req, ref }),
          (err: unknown) => this.host.sendControl(from, { op: 'spawn-result', req: c.req, error: errorToData(err) as ErrorData }),
        );
      case 'lookup':
        return void this.lookup(c.id).then((ref) => this.host.sendControl(from, { op: 'lookup-result', req: c.req, ref }));
      case 'spawned':
      case 'stats-result':
      case 'shutdown-done':
        this.requests.get(c.req)?.(c);
        this.requests.delete(c.req);
        return;
    }
  }

  // ---- introspection and shutdown -----------------------------------------------------------------------------

  /** Per actor: messages handled, mailbox depth, handling time; per thread: actor count, event-loop utilization. */
  async stats(options: { actors?: boolean } = {}): Promise<RuntimeStats> {
    const withActors = options.actors ?? true;
    const nodes = [this.host.stats(withActors)];
    for (let node = 1; node <= this.workerCount; node++) {
      if (!this.live(node)) continue;
      const res = await this.request(node, (req) => ({ op: 'stats', req, actors: withActors }));
      if (res.op === 'stats-result') nodes.push(res.stats);
    }
    const deadLetters: RuntimeStats['deadLetters'] = {};
    for (const n of nodes) {
      for (const [reason, count] of Object.entries(n.deadLetters)) {
        deadLetters[reason as keyof typeof deadLetters] = (deadLetters[reason as keyof typeof deadLetters] ?? 0) + (count ?? 0);
      }
    }
    return { nodes, deadLetters, recentDeadLetters: this.host.deadLetters.latest() };
  }

  /** Stop every actor, terminate the workers and release every handle, so the process can exit. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    const done: Promise<unknown>[] = [];
    for (let node = 1; node <= this.workerCount; node++) {
      if (!this.live(node)) continue;
      const bye = this.request(node, (req) => ({ op: 'shutdown', req }));
      done.push(Promise.race([bye, new Promise((r) => setTimeout(r, 2000).unref())]));
    }
    this.host.transport.flush();
    await Promise.all(done);
    this.stopped = true;
    this.host.close();
    await Promise.all(this.workers.map((w) => w?.terminate()));
    for (const w of this.workers) w?.removeAllListeners();
  }
}

export { Op };
