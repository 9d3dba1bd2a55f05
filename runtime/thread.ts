import type { MessagePort } from 'node:worker_threads';
import type { ActorRef } from '../actors/define.ts';
import type { RuntimeHarness, ThreadExtension, ThreadServices } from './extensions.ts';
import { Host } from './host.ts';
import { CommitFence } from './commit-fence.ts';
import type { Clock } from './clock.ts';
import type { StandIn } from './supervision.ts';
import type { SchedulingPolicy } from './scheduler.ts';
import type { Timebase } from './timebase.ts';
import { errorToData, reviveError } from './errors.ts';
import { Op, type Control } from './protocol.ts';

/** What the main thread gives each worker: its node number and one port per other thread (the mesh). */
export interface WorkerBoot {
  node: number;
  /** Indexed by node; undefined for this worker itself and for node 0 (reached through the parent port). */
  ports: (MessagePort | undefined)[];
  dataDir?: string;
  /** How this thread reads the runtime's clock (runtime/timebase.ts). */
  timebase?: Timebase;
  /** Replacing a lost thread: its supervised actors, created here before any message is taken (runtime/supervision.ts). */
  standIns?: StandIn[];
  /** Modules of capabilities built on the kernel, attached before any message is taken (runtime/extensions.ts). */
  extensions?: string[];
  /** Keep the introspection counters (RuntimeOptions.metrics). */
  metrics?: boolean;
  /** This thread's store commits in flight, shared with the main thread (runtime/commit-fence.ts). */
  commits?: SharedArrayBuffer;
}

/** The thread's side of its channel to the main thread (a worker's parentPort). */
export interface ParentChannel {
  postMessage(value: unknown): void;
  on(event: 'message', fn: (value: unknown) => void): unknown;
}

/** What differs between a real worker thread (runtime/worker.ts) and one a harness hosts in-process. */
export interface ThreadEnvironment {
  clock: Clock;
  /** The runtime's clock read from this thread (runtime/timebase.ts). */
  runtimeNow?: () => number;
  defer?: (fn: () => void) => void;
  scheduling?: SchedulingPolicy;
  importModule?: (url: string) => Promise<Record<string, unknown>>;
  random: () => number;
  /** A deterministic harness's hooks (RuntimeHarness, runtime/extensions.ts). */
  harness?: Pick<RuntimeHarness, 'definition' | 'storeOpened' | 'services' | 'messageIdPrefix' | 'openStore'>;
  /** The thread extensions, when already loaded in this realm (an in-process thread): attached without an import. */
  extensions?: readonly ThreadExtension[];
}

/**
 * One worker thread's life: a Host for its actors, the control operations of the main thread, its stand-ins, then
 * 'ready' to the main thread. The real worker (runtime/worker.ts) runs this on its own thread; a deterministic
 * harness may run it for a simulated thread (RuntimeHarness.threads), so both follow the same code.
 */
export async function runThread(boot: WorkerBoot, main: ParentChannel, env: ThreadEnvironment): Promise<Host> {
  let reqSeq = 0;
  const waiting = new Map<number, (c: Control) => void>();

  function request(make: (req: number) => Control): Promise<Control> {
    return new Promise((resolve) => {
      const req = ++reqSeq;
      waiting.set(req, resolve);
      host.sendControl(0, make(req));
    });
  }

  const host: Host = new Host({
    node: boot.node,
    ports: boot.ports.map((p, i) => (i === 0 ? main : p)),
    clock: env.clock,
    runtimeNow: env.runtimeNow,
    defer: env.defer,
    scheduling: env.scheduling,
    dataDir: boot.dataDir,
    importModule: env.importModule,
    metrics: boot.metrics,
    commitGate: boot.commits === undefined ? undefined : new CommitFence(boot.commits),
    harness: env.harness,
    random: env.random,
    onControl,
    async spawn(definition, options) {
      // The main thread may not have the definition: its capabilities travel with the options.
      const capabilities = [...definition.capabilities, ...(options.capabilities ?? [])];
      const res = await request((req) => ({ op: 'spawn-request', req, module: definition.module, kind: definition.kind, options: { ...options, capabilities } as Record<string, unknown> }));
      if (res.op !== 'spawn-result') throw new Error(`unexpected answer ${res.op}`);
      if (res.error) throw reviveError(res.error);
      return res.ref as ActorRef;
    },
    async lookup(id) {
      const res = await request((req) => ({ op: 'lookup', req, id }));
      return res.op === 'lookup-result' ? res.ref : undefined;
    },
  });

  function onControl(_from: number, c: Control): void {
    if (host.supervise(c)) return;
    switch (c.op) {
      case 'spawn':
        return void spawnHere(c);
      case 'stats':
        return host.sendControl(0, { op: 'stats-result', req: c.req, stats: host.stats(c.actors) });
      case 'metrics':
        return host.sendControl(0, { op: 'metrics-result', req: c.req, metrics: host.metrics() });
      case 'inspect':
        return inspectHere(c);
      case 'node-lost':
        return host.nodeLost(c.node, c.survivors);
      case 'rewatch':
        return host.rewatch(c.node);
      case 'reconnect':
        return host.connect(c.node, c.port);
      case 'ping':
        return host.sendControl(0, { op: 'pong', req: c.req });
      case 'directory':
        if (c.reset) host.directory.clear();
        for (const change of c.changes) host.directory.apply(change);
        return;
      case 'shutdown':
        host.close();
        // Pending snapshots and journal writes reach the disk before the thread says it is done.
        void host.closeStore().finally(() => {
          host.sendControl(0, { op: 'shutdown-done', req: c.req });
          host.transport.flush();
          host.transport.closePorts();
        });
        return;
      case 'spawn-result':
      case 'lookup-result':
        waiting.get(c.req)?.(c);
        waiting.delete(c.req);
        return;
    }
  }

  /** One actor's inspection; a state that cannot be posted (it should be plain data) is reported as an error. */
  function inspectHere(c: Extract<Control, { op: 'inspect' }>): void {
    let inspection = host.inspect(c.id, c.state);
    try {
      // Cloned here, once: a state that cannot be posted would otherwise be dropped by the transport, unanswered.
      inspection = structuredClone(inspection);
    } catch (err) {
      return host.sendControl(0, { op: 'inspect-result', req: c.req, error: errorToData(err) });
    }
    host.sendControl(0, { op: 'inspect-result', req: c.req, inspection });
  }

  /** Spawns arrive in order; a cached definition is created synchronously, so order is kept for the common case. */
  async function spawnHere(c: Extract<Control, { op: 'spawn' }>): Promise<void> {
    try {
      const found = host.definition(c.module, c.kind, c.id);
      const def = found instanceof Promise ? await found : found;
      host.createLocal(c.id, def, c.args, c.mailbox as never, c.supervision);
      host.sendControl(0, { op: 'spawned', req: c.req });
    } catch (err) {
      host.sendControl(0, { op: 'spawned', req: c.req, error: errorToData(err) });
    }
  }

  /**
   * Stand-ins for the actors lost with the thread this one replaces: created before this thread listens to any port
   * (mail already sent to them waits in the ports), so none of it finds them missing. Returns the ids that failed.
   */
  async function createStandIns(standIns: StandIn[]): Promise<string[]> {
    const failed: string[] = [];
    for (const s of standIns) {
      try {
        const found = host.definition(s.module, s.kind, s.id);
        const def = found instanceof Promise ? await found : found;
        host.createLocal(s.id, def, s.args, s.mailbox as never, s.supervision, s);
      } catch {
        failed.push(s.id); // its supervisor spawns it again for its restart, which reports what goes wrong
      }
    }
    return failed;
  }

  const services = (): ThreadServices => {
    const given = host.services(env.random);
    return env.harness?.services?.(given) ?? given;
  };
  if (env.extensions !== undefined) for (const ext of env.extensions) ext.attach(services());
  else {
    for (const module of boot.extensions ?? []) {
      const ext = (await import(module)) as { attachToThread?: (services: ThreadServices) => void };
      ext.attachToThread?.(services());
    }
  }
  const failed = await createStandIns(boot.standIns ?? []);
  main.on('message', (ops) => host.receive(0, ops as unknown[]));
  boot.ports.forEach((p, node) => p !== undefined && node !== 0 && host.connect(node, p));
  main.postMessage([Op.Control, { op: 'ready', failed }]);
  return host;
}
