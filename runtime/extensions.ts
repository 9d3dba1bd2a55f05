import type { ActorRef, Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import type { Clock } from './clock.ts';
import type { Directory } from './directory.ts';
import type { DeadLetterReason } from './stats.ts';

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

/** `Runtime.start({ cluster })`: what the cluster layer (cluster/) reads; the kernel only passes it on. */
export interface ClusterOptions {
  servers: string | string[];
  node: string;
  [option: string]: unknown;
}

/** What a joined cluster does for the runtime on the main thread: the registry of ids spans the nodes. */
export interface ClusterMembership {
  /** Claim `id` cluster-wide before it is placed here (rejects with DuplicateActorIdError when another node has it). */
  reserve(id: string, kind: string): Promise<void>;
  /** The actor now runs on local thread `node`. */
  placed(id: string, kind: string, node: number): void;
  /** A reserved or placed id is free again (the spawn failed, or the actor stopped for good). */
  released(id: string): void;
  /** An actor of another node, as a ref usable here. */
  lookup(id: string): Promise<ActorRef | undefined>;
  /** A module every worker of this runtime attaches (`attachToThread`), as the thread extensions are. */
  readonly threadModule?: string;
  /** The runtime is up (its workers too): the cluster may spawn what it is to host here. */
  started?(runtime: unknown): void;
  /** Leave the cluster (called first in shutdown). */
  leave(): Promise<void>;
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
