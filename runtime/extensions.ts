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
