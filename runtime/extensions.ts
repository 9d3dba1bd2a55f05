import type { ActorRef, Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import type { Clock } from './clock.ts';
import type { Directory, DirectoryChange } from './directory.ts';
import type { DeadLetterReason } from './stats.ts';
import type { ActorDefinition } from '../actors/define.ts';
import type { ActorStore, ActorStoreOptions } from '../persistence/store.ts';
import type { ErrorData } from './errors.ts';
import type { ThreadLauncher } from './threads.ts';
import type { Host } from './host.ts';
import type { MailboxSpec } from '../mailbox/mailbox.ts';

/**
 * How capabilities built on the kernel (the router) reach it on every thread, without the kernel importing them:
 * a capability registers a module; the main thread calls its `attach` at once, and every worker imports the module
 * at boot and calls its exported `attachToThread(services)` before it takes any message.
 */
export interface ThreadServices {
  readonly node: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly directory: Directory;
  /**
   * Whether this thread keeps counters (`Runtime.start({ metrics: false })` turns them off): a capability then counts
   * nothing of its own and registers no countersSource, so none of its counters is collected or exported.
   */
  readonly metrics: boolean;
  /**
   * Mailbox depth of an actor on this thread (+1 while it handles a message), as a function bound to that actor (the
   * router reads it per choice without a lookup); undefined when the actor is not here.
   */
  localLoadProbe(id: string): (() => number) | undefined;
  /**
   * The kernel's own delivery, after the checks a route already passed (type, cloneability). `trace`: the sender's
   * traceparent (runtime/tracing.ts), passed on as the route received it.
   */
  tell(ref: ActorRef, type: string, payload: unknown, from: string, trace?: string): void;
  ask(ref: ActorRef, type: string, payload: unknown, from: string, timeoutMs?: number, trace?: string): Promise<unknown>;
  send(ref: ActorRef, type: string, payload: unknown, from: string, messageId: string, timeoutMs?: number, trace?: string): Promise<unknown>;
  deadLetter(to: string, type: string, from: string, reason: DeadLetterReason, detail?: string): void;
  /** Messages addressed by route on this thread go to `resolver`. */
  useRouter(resolver: RouteResolver): void;
  /**
   * A capability's own counters on this thread, read when metrics are collected (ThreadMetrics.extra): `read`
   * returns monotonic counts keyed by `<metric name>\u0000<labels as JSON>` (bounded labels: never an actor id).
   */
  countersSource(read: () => Readonly<Record<string, number>>): void;
  /** Messages for ids this thread does not host go to `handler` first (a cluster: the actor may be on another node). */
  onMiss(handler: MissHandler): void;
  /** Watches and stops of ids this thread does not host go to `handler` first (a cluster: on another node). */
  onRemoteActors(handler: RemoteActors): void;
  /** Tell thread `node`'s watchers of `id` that it terminated (a notice that came from another node). */
  terminated(node: number, id: string, kind: string, reason: string): void;
  /** The kernel's own stop, from this thread. */
  stop(ref: ActorRef, reason: string): void;
  /** Answer the ask (or send acknowledgement) `ask` made on thread `node` (a reply that came back from another node). */
  reply(node: number, ask: number, ok: boolean, value: unknown): void;
  /** Pass a message on to thread `node` keeping its reply address: what it answers goes to thread `replyNode`. */
  forward(node: number, id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean): void;
}

/**
 * A message for an id not hosted on this thread (or for a thread number this node does not have). Return true when
 * taken; false lets the kernel report it as usual (not found). `forwarded`: it was passed on to this thread already.
 */
export type MissHandler = (id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean, forwarded: boolean) => boolean;

/** Death watch and stop of actors this thread does not host (the cluster's, on the main thread). */
export interface RemoteActors {
  /**
   * Thread `node` wants one notice when `id` stops: true when taken (it then calls ThreadServices.terminated), a
   * thread number to send the watcher there instead (the thread that has it, or the main thread), false: not found.
   */
  watch(node: number, id: string, kind: string): boolean | number;
  unwatch(node: number, id: string): void;
  /** Stop `id` (asked by thread `from`: a thread that does not have it either is not asked back); true when taken. */
  stop(id: string, reason: string, from: number): boolean;
  /** Thread `node` died (main thread): its watchers are gone with it, so the watches it asked for end. */
  threadLost?(node: number): void;
}

/** `Runtime.start({ cluster })`: what the cluster layer (cluster/) reads; the kernel only passes it on. */
export interface ClusterOptions {
  servers: string | string[];
  node: string;
  [option: string]: unknown;
}

/** What a joined cluster does for the runtime on the main thread: the registry of ids spans the nodes. */
export interface ClusterMembership {
  /** This node's id in the cluster. */
  readonly nodeId?: string;
  /** Claim `id` cluster-wide before it is placed here (rejects with DuplicateActorIdError when another node has it). */
  reserve(id: string, kind: string): Promise<void>;
  /** The actor now runs on local thread `node`. */
  placed(id: string, kind: string, node: number): void;
  /** A reserved or placed id is free again (the spawn failed, or the actor stopped for good). */
  released(id: string): void;
  /** An actor of another node, as a ref usable here. */
  lookup(id: string): Promise<ActorRef | undefined>;
  /**
   * Where an unsupervised spawn goes (its `node` / `placement` options, or the cluster's default): the ref of the
   * actor started on another node, or undefined to start it here. Rejects when the node named is not usable.
   */
  spawnElsewhere?(module: string, kind: string, options: RemoteSpawnOptions): Promise<ActorRef | undefined>;
  /** A module every worker of this runtime attaches (`attachToThread`), as the thread extensions are. */
  readonly threadModule?: string;
  /**
   * The routing directory spans the nodes: the runtime tells the cluster each change of its own members
   * (`directoryChanged`), and hands it `apply` for the members of other nodes (applied on every thread here, never
   * echoed back). Members of another node join with thread 0 (the main thread sends their mail over the cluster).
   */
  directoryChanged?(change: DirectoryChange): void;
  attachDirectory?(apply: (change: DirectoryChange) => void): void;
  /**
   * Start a supervised child declared cluster-owned (ChildSpec.failover): the ref of the failover actor (wherever it
   * runs now: a tree started again finds its child where the cluster moved it).
   */
  spawnOwned?(def: ActorDefinition, options: { id: string; args?: unknown; snapshotEvery?: number; capabilities?: readonly string[]; mailbox?: MailboxSpec }, crashed: OwnedCrash): Promise<ActorRef>;
  /** Its supervisor restarts the owned child `id` (after a crash the cluster reported): it applies its mail again. */
  resumeOwned?(id: string): void;
  /**
   * Its supervisor admits the one trial of owned child `id` (its circuit half-open): it applies its next message;
   * `succeeded` once that one is handled without a crash (a crash is reported with `trial` true instead).
   */
  trialOwned?(id: string, succeeded: () => void): void;
  /** The runtime is up (its workers too): the cluster may spawn what it is to host here. */
  started?(runtime: unknown): void | Promise<void>;
  /** The nodes as this node sees them (the ops view: `troupe cluster`, GET /api/cluster). */
  view?(): ClusterView;
  /** Leave the cluster (called first in shutdown). */
  leave(): Promise<void>;
}

/**
 * A cluster-owned child crashed handling `messageType` (the message is consumed, the state as it was): its
 * supervisor decides; until it restarts the child (resumeOwned), the child applies no more of its mail. `trial`: it
 * crashed on its circuit's one trial message (trialOwned).
 */
export type OwnedCrash = (messageType: string, error: ErrorData, trial: boolean) => void;

/** One node of the cluster as a node sees it: from its last heartbeat record; a node once seen stays listed. */
export interface ClusterNodeView {
  id: string;
  alive: boolean;
  /** The node answering. */
  self: boolean;
  /** Actors it hosts (its last heartbeat's count; this node's own, live): the load placement goes by. */
  actors: number;
  /** Its actors offering capabilities, as the routing table knows them. */
  members: number;
  pid?: number;
  joinedAt?: number;
}

export interface ClusterView {
  name: string;
  node: string;
  nodes: ClusterNodeView[];
}

/** What a spawn on another node carries (the rest of SpawnOptions are this node's threads: pin, near). */
export interface RemoteSpawnOptions {
  id?: string;
  args?: unknown;
  mailbox?: unknown;
  capabilities?: readonly string[];
  node?: string;
  placement?: 'local' | 'least-loaded';
}

export type ClusterJoin = (options: ClusterOptions, services: ThreadServices) => Promise<ClusterMembership>;

let clusterJoin: ClusterJoin | undefined;

/** Installed by cluster/index.ts when imported: `Runtime.start({ cluster })` calls it. */
export function registerCluster(join: ClusterJoin): void {
  clusterJoin = join;
}

export function clusterProvider(): ClusterJoin | undefined {
  return clusterJoin;
}

/** What resolves a route to an actor on one thread (router/thread-router.ts). */
export interface RouteResolver {
  tell(route: Route, type: string, payload: unknown, from: string, trace?: string): void;
  ask(route: Route, type: string, payload: unknown, from: string, timeoutMs: number | undefined, trace?: string): Promise<unknown>;
  send(route: Route, type: string, payload: unknown, from: string, messageId: string, timeoutMs: number | undefined, trace?: string): Promise<unknown>;
  find(route: Route): readonly MemberInfo[];
}

export interface ThreadExtension {
  /** file: URL of a module exporting `attachToThread(services: ThreadServices): void` (workers import it). */
  readonly module: string;
  /** The same, called on the main thread. */
  attach(services: ThreadServices): void;
}

const extensions: ThreadExtension[] = [];

/** Register once (a capability's index module does it when imported); later runtimes and their workers get it. */
export function registerThreadExtension(ext: ThreadExtension): void {
  if (!extensions.some((e) => e.module === ext.module)) extensions.push(ext);
}

export function threadExtensions(): readonly ThreadExtension[] {
  return extensions;
}

/**
 * A harness's thread that died (a simulated worker: its Host): take out the user messages waiting in its mailboxes,
 * which are lost with it, as [actor id, message type] (the runtime's own, '$'-typed, are not counted).
 */
export function drainLostThread(host: Host): Array<[string, string]> {
  const lost: Array<[string, string]> = [];
  for (const cell of host.actors.values()) for (const env of cell.mailbox.drain()) if (!env.type.startsWith('$')) lost.push([cell.id, env.type]);
  return lost;
}

/**
 * The clock and the randomness of the runtime a handler runs in, for a capability's waits inside a handler (an
 * agent's retry-after and backoff): the runtime's own (`Runtime.start({ clock, random })`, a worker's system clock),
 * so a harness's virtual clock and seed drive them too. `handlerTime(ctx)` reads it from a handler's context (or
 * from an object made from one with Object.create); undefined for anything else.
 */
export interface HandlerTime {
  readonly clock: Clock;
  readonly random: () => number;
}

/** The key under which a kernel context answers its HandlerTime (runtime/context.ts). */
export const HANDLER_TIME: unique symbol = Symbol('troupe.handler-time');

export function handlerTime(ctx: unknown): HandlerTime | undefined {
  const read = (ctx as { [HANDLER_TIME]?: () => HandlerTime } | undefined)?.[HANDLER_TIME];
  return typeof read === 'function' ? read.call(ctx) : undefined;
}

/**
 * What a deterministic harness (troupe/testkit) plugs into a runtime (`Runtime.start({ harness })`); never needed in
 * production. The kernel calls these and knows nothing of the harness.
 */
export interface RuntimeHarness {
  /** Where worker threads come from: in-process simulated threads instead of worker_threads (runtime/threads.ts). */
  threads?: ThreadLauncher;
  /**
   * The definition actor `id` is created from when a thread has only its module and kind (a spawn placed there, a
   * stand-in after a lost thread): undefined imports the module as usual.
   */
  definition?(module: string, kind: string, id: string): ActorDefinition | undefined;
  /**
   * The prefix of the ids this thread gives messages sent without one (default: random, 72 bits): a harness's makes
   * them reproducible. It must never repeat within one durable store's life (ids are deduplicated).
   */
  messageIdPrefix?(node: number): string;
  /**
   * The store a thread opens for `dir` instead of LMDB (the testkit's in-memory store, with the same interface and
   * guarantees); undefined opens LMDB as usual.
   */
  openStore?(dir: string, options: ActorStoreOptions, node: number): ActorStore | undefined;
  /**
   * Told when shutdown waits for worker `node`'s store commits in flight before it may terminate it (the worker did
   * not confirm shutdown in time; runtime/worker-shutdown.ts).
   */
  shutdownWaiting?(node: number, commits: number): void;
  /** Each LMDB store a thread of this process opens, as it opens (`node`: the thread's number). */
  storeOpened?(store: ActorStore, node: number): void;
  /**
   * The services each thread's extensions (the router) get, as the harness wants them: e.g. with the deliveries a
   * route resolved to travelling through the harness's scheduling.
   */
  services?(services: ThreadServices): ThreadServices;
}
