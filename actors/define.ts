import type { Draft } from 'immer';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidDefinitionError } from '../runtime/errors.ts';
import type { MailboxSpec } from '../mailbox/mailbox.ts';
import { mailboxSpecProblem } from '../mailbox/mailbox.ts';
import { validateCadence } from '../persistence/cadence.ts';
import { validatePoisonAfter } from '../persistence/poison.ts';
import { capabilitiesProblem } from '../runtime/validate.ts';
import type { ActorContext } from './context.ts';

/** A handler: mutates the immer draft of the state; what it returns (or resolves to) answers an ask. */
export type Handler<S> = (state: Draft<S>, payload: any, ctx: ActorContext) => unknown;
export type HandlerMap<S> = Record<string, Handler<S>>;

export interface ActorDefinition<S = any, A = any, H extends HandlerMap<S> = HandlerMap<S>> {
  readonly kind: string;
  readonly capabilities: readonly string[];
  readonly init: (args: A) => S;
  readonly handlers: H;
  readonly mailbox?: MailboxSpec;
  /** Called with a termination notice for every actor this one watches. */
  readonly onTerminated?: (state: Draft<S>, notice: TerminationNotice, ctx: ActorContext) => unknown;
  /** Opt-in persistence: snapshots to LMDB, and optionally a durable mailbox. */
  readonly persistence?: PersistenceSpec;
  /** file: URL of the module that exports this definition; workers import it from there. */
  readonly module: string;
}

/**
 * A persistent actor's state survives crashes and restarts of the whole process (Runtime.start({ dataDir })).
 * - snapshot: cadence (default after every message). With a durable mailbox, `{ everyMessages: n }` snapshots after
 *   every n handled tells and sends instead of each (an ask still waits for its own snapshot): the messages since the
 *   last snapshot stay in the journal and a restart handles them again, from that snapshot, in order. For handlers
 *   whose new state depends only on the state and the message (what they send on the way is sent again too), when
 *   the state is large and each message changes a little of it (an append-only log): a message costs its journal
 *   write instead of a snapshot of the whole state.
 * - version / migrations: the state schema version; migrations[v] turns a version-v state into v + 1.
 * - durableMailbox: every message is journaled before it is handled; handling it, storing the new snapshot and
 *   removing it from the journal are one transaction (exactly-once state). Asks resolve once durable.
 * - onBadSnapshot: 'fail' (default: the actor does not start, the stored data is left untouched) or 'reset'
 *   (start from init when the snapshot cannot be decoded or migrated).
 */
export interface PersistenceSpec {
  snapshot?: { every: 'message' } | { everyMessages: number } | { everyMs: number };
  version?: number;
  migrations?: Record<number, (state: any) => unknown>;
  durableMailbox?: boolean;
  onBadSnapshot?: 'fail' | 'reset';
  /** Durable mailbox: how many sender-given message ids are remembered to recognise retries (default 1024). */
  dedupWindow?: number;
  /** Snapshots kept in the store for this actor: the latest (default 1), or the last N for inspection. */
  keepSnapshots?: number;
  /**
   * Durable mailbox: a journaled message replayed this many times (default 3) after a loss of its thread or
   * process without its handling ever completing is set aside as poison (runtime.poisonMessages) instead of being
   * handed over again. Counted only on recovery (persistence/poison.ts).
   */
  poisonAfter?: number;
}

export interface TerminationNotice {
  id: string;
  kind: string;
  /** 'stopped' for a requested stop, 'not-found' when the watched actor was already gone, 'worker-lost' ... */
  reason: string;
}

/** A reference to an actor: plain data, so it can travel inside messages and be used on any thread. */
export interface ActorRef<D extends ActorDefinition = ActorDefinition> {
  readonly id: string;
  readonly kind: string;
  /** Thread hosting the actor: 0 is the main thread, 1..n the workers. */
  readonly node: number;
  /** Type-level only: never present at run time. */
  readonly __definition?: D;
}

/**
 * An address by what the actor can do rather than who it is: the router (router/) picks one live actor offering
 * every capability in `capability`, scoring those offering more of `prefer`, keeping one `key` on one actor (sticky
 * routing). Plain data like a ref: put it in messages, use it from any thread. `kind` (the definition, type-level
 * only) keeps payload and reply types inferred: make one with `route(definition, spec)` from the router.
 */
/** What an untyped route may reach: any message type, any payload, replies typed `any`. */
export type AnyActorDefinition = ActorDefinition<any, any, Record<string, (state: any, payload: any, ctx: ActorContext) => any>>;

export interface Route<D extends ActorDefinition = AnyActorDefinition> {
  readonly capability: string | readonly string[];
  readonly prefer?: readonly string[];
  readonly key?: string;
  /**
   * A strategy name ('least-loaded', 'round-robin', 'random', 'p2c', 'consistent-hash', 'hash-ring',
   * 'weighted-adaptive'), or your own `(candidates, message, state) => candidate` (router/types.ts Strategy). A
   * function cannot cross a thread: a route carrying one is used where it was made (a message carrying it is refused
   * as not cloneable).
   */
  readonly strategy?: string | ((candidates: readonly any[], message: any, state: any) => unknown);
  /** Retries of asks and sends on another capable actor (router/policy/retry.ts); false: none. */
  readonly retry?: Readonly<Record<string, unknown>> | false;
  /** A ref's fields are absent: that is how a route is told apart from a ref. */
  readonly id?: undefined;
  readonly __definition?: D;
}

/** Where a message can go: an actor (its ref) or whoever offers a capability (a route). */
export type Address<D extends ActorDefinition = ActorDefinition> = ActorRef<D> | Route<D>;

type HandlersOf<D> = D extends ActorDefinition<any, any, infer H> ? H : never;
export type MessageType<D> = keyof HandlersOf<D> & string;
/** Payload argument list for a message type: empty when the handler takes no payload. */
export type PayloadArgs<D, K extends MessageType<D>> =
  HandlersOf<D>[K] extends (state: any, ...rest: infer R) => any
    ? R extends [] ? [] : R extends [infer P, ...any[]] ? (0 extends 1 & P ? [payload?: any] : [payload: P]) : []
    : never;
export type Reply<D, K extends MessageType<D>> = Awaited<ReturnType<HandlersOf<D>[K]>>;
export type InitArgs<D> = D extends ActorDefinition<any, infer A, any> ? A : never;

export interface AskOptions {
  /** Milliseconds before the ask rejects with AskTimeoutError (default 5000). */
  timeoutMs?: number;
  /**
   * W3C trace context the message continues (e.g. an incoming HTTP request's `traceparent` header). Default: inside
   * a handler, the trace of the message it handles; outside, a new trace. A malformed one: InvalidTraceparentError.
   */
  traceparent?: string;
}

export interface SendOptions extends AskOptions {
  /** Identifies the message: a retry with the same id is recognised by a durable mailbox and not applied twice. */
  messageId?: string;
}

export interface SendReceipt {
  messageId: string;
  /** True when this id had already been received (a retry): the message was not queued again. */
  duplicate: boolean;
}

export type SendArgs<D, K extends MessageType<D>> =
  PayloadArgs<D, K> extends [] ? [payload?: undefined, options?: SendOptions] : [...PayloadArgs<D, K>, options?: SendOptions];

/** `payload` then optional ask options; the payload may be omitted when the handler takes none. */
export type AskArgs<D, K extends MessageType<D>> =
  PayloadArgs<D, K> extends [] ? [payload?: undefined, options?: AskOptions] : [...PayloadArgs<D, K>, options?: AskOptions];

export interface DefineActorInput<S, A, H extends HandlerMap<S>> {
  kind: string;
  capabilities?: readonly string[];
  init: (args: A) => S;
  handlers: H & ThisType<void>;
  mailbox?: MailboxSpec;
  onTerminated?: (state: Draft<S>, notice: TerminationNotice, ctx: ActorContext) => unknown;
  persistence?: PersistenceSpec;
  /** Pass `import.meta.url` when the module cannot be found from the call stack (bundled code). */
  module?: string;
}

/**
 * Define an actor kind. The definition must be exported from its module (default or named export): workers
 * import that module to get the handlers, because closures cannot cross threads.
 */
export function defineActor<S, A = void, H extends HandlerMap<S> = HandlerMap<S>>(
  input: DefineActorInput<S, A, H>,
): ActorDefinition<S, A, H> {
  if (typeof input !== 'object' || input === null) throw new InvalidDefinitionError('defineActor expects an object');
  if (typeof input.kind !== 'string' || input.kind === '') throw new InvalidDefinitionError('kind must be a non-empty string');
  if (typeof input.init !== 'function') throw new InvalidDefinitionError(`${input.kind}: init must be a function`);
  if (typeof input.handlers !== 'object' || input.handlers === null) throw new InvalidDefinitionError(`${input.kind}: handlers must be an object`);
  for (const [name, h] of Object.entries(input.handlers)) {
    if (typeof h !== 'function') throw new InvalidDefinitionError(`${input.kind}: handler ${name} is not a function`);
    if (name.startsWith('$')) throw new InvalidDefinitionError(`${input.kind}: message types starting with $ are reserved`);
  }
  const problem = capabilitiesProblem(input.capabilities) ?? mailboxSpecProblem(input.mailbox) ?? persistenceProblem(input.persistence) ?? durableMailboxProblem(input.persistence, input.mailbox);
  if (problem) throw new InvalidDefinitionError(`${input.kind}: ${problem}`);
  return Object.freeze({
    kind: input.kind,
    capabilities: Object.freeze([...(input.capabilities ?? [])]),
    init: input.init,
    handlers: input.handlers,
    mailbox: input.mailbox,
    onTerminated: input.onTerminated,
    persistence: input.persistence,
    module: input.module ?? callerModule(),
  });
}

/**
 * A durable mailbox is its journal: FIFO and unbounded. A bounded one would have to drop messages already
 * acknowledged as journaled, and a priority one would handle them out of journal order (a snapshot at seq S
 * stands for every message up to S).
 */
export function durableMailboxProblem(p: PersistenceSpec | undefined, mailbox: unknown): string | undefined {
  if (p?.durableMailbox !== true || mailbox === undefined || (mailbox as { kind?: unknown }).kind === 'unbounded') return undefined;
  return 'a durable mailbox is FIFO and unbounded (its journal): leave the mailbox option out';
}

function persistenceProblem(p: PersistenceSpec | undefined): string | undefined {
  if (p === undefined) return undefined;
  if (typeof p !== 'object' || p === null) return 'persistence must be an object';
  if (p.snapshot !== undefined) {
    try {
      validateCadence(p.snapshot);
    } catch (err) {
      return (err as Error).message;
    }
    if (p.durableMailbox && 'everyMs' in p.snapshot) return "a durable mailbox snapshots after every message or every N handled messages: persistence.snapshot must be { every: 'message' } or { everyMessages: n }";
  }
  if (p.version !== undefined && (!Number.isSafeInteger(p.version) || p.version < 0)) return 'persistence.version must be a non-negative integer';
  if (p.migrations !== undefined && (typeof p.migrations !== 'object' || p.migrations === null)) return 'persistence.migrations must map versions to functions';
  if (p.onBadSnapshot !== undefined && p.onBadSnapshot !== 'fail' && p.onBadSnapshot !== 'reset') return "persistence.onBadSnapshot must be 'fail' or 'reset'";
  for (const key of ['dedupWindow', 'keepSnapshots'] as const) {
    const n = p[key];
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 1)) return `persistence.${key} must be an integer >= 1`;
  }
  if (p.poisonAfter !== undefined) {
    try {
      validatePoisonAfter(p.poisonAfter);
    } catch (err) {
      return `persistence.${(err as Error).message}`;
    }
    if (p.durableMailbox !== true) return 'persistence.poisonAfter counts replays of a durable mailbox: set durableMailbox: true';
  }
  return undefined;
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  const v = value as ActorDefinition | null;
  return typeof v === 'object' && v !== null && typeof v.kind === 'string' && typeof v.init === 'function'
    && typeof v.handlers === 'object' && typeof v.module === 'string';
}

/** The file: URL of the module that called defineActor, read from the stack (the frame after this file's). */
function callerModule(): string {
  const stack = new Error().stack ?? '';
  const here = fileURLToPath(import.meta.url);
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (path === here) continue;
    return pathToFileURL(path).href;
  }
  throw new InvalidDefinitionError('cannot tell which module defines this actor: pass module: import.meta.url');
}
