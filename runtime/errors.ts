/**
 * Every mistake a caller can make gets its own error class with a stable `code`, thrown (or rejected) where the
 * mistake is made. Errors that travel between threads are rebuilt from `{ name, code, message, stack }` by
 * `reviveError`, so `instanceof` and `code` keep working across a thread boundary.
 */
export class TroupeError extends Error {
  readonly code: string = 'ERR_TROUPE';
  /** Structured facts about the failure (plain data, kept across threads). */
  details?: Record<string, unknown>;
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options);
    this.name = new.target.name;
    if (options?.details) this.details = options.details;
  }
}

/** The base of a named error with a stable `code`: `class XError extends errorClass('ERR_X') {}` (every folder's errors). */
export function errorClass<C extends string>(code: C) {
  return class extends TroupeError {
    static readonly code: C = code;
    override readonly code: C = code;
  };
}
const define = errorClass;

/** The target id names no running actor (never spawned, or already stopped). */
export class ActorNotFoundError extends define('ERR_ACTOR_NOT_FOUND') {}
/** An ask got no reply within its timeout. */
export class AskTimeoutError extends define('ERR_ASK_TIMEOUT') {}
/** The actor's handler threw or rejected while handling this message; `cause` is what it threw. */
export class ActorCrashedError extends define('ERR_ACTOR_CRASHED') {}
/** The actor stopped before it handled this message. */
export class ActorStoppedError extends define('ERR_ACTOR_STOPPED') {}
/** spawn() with an id that a running actor already has. */
export class DuplicateActorIdError extends define('ERR_DUPLICATE_ACTOR_ID') {}
/** Runtime.deleteStoredActor(id) while an actor with that id is running: stop it first. */
export class ActorRunningError extends define('ERR_ACTOR_RUNNING') {}
/** spawn() or Runtime.start() with an option that is not valid. */
export class InvalidSpawnOptionError extends define('ERR_INVALID_SPAWN_OPTION') {}
/** The actor's definition has no handler for this message type. */
export class UnknownMessageTypeError extends define('ERR_UNKNOWN_MESSAGE_TYPE') {}
/** A payload that cannot cross a thread (a function, a symbol, a class instance...). */
export class MessageNotCloneableError extends define('ERR_MESSAGE_NOT_CLONEABLE') {}
/** The module that holds an actor definition failed to load (or has no such kind) in the worker. */
export class DefinitionLoadError extends define('ERR_DEFINITION_LOAD') {}
/** The target's bounded mailbox is full and its overflow policy is 'fail'. */
export class MailboxFullError extends define('ERR_MAILBOX_FULL') {}
/** The worker thread hosting the target died before replying. */
export class WorkerLostError extends define('ERR_WORKER_LOST') {}
/** The runtime was shut down (or is shutting down). */
export class RuntimeStoppedError extends define('ERR_RUNTIME_STOPPED') {}
/** An actor definition given to defineActor() is malformed. */
export class InvalidDefinitionError extends define('ERR_INVALID_DEFINITION') {}
/** The target's circuit is open: it is not running. `details.retryInMs` says when it will be tried again. */
export class CircuitOpenError extends define('ERR_CIRCUIT_OPEN') {}
/** An ask to a durable mailbox carried a message id that was already received (a retry): it is not applied again. */
export class DuplicateMessageError extends define('ERR_DUPLICATE_MESSAGE') {}
/** An async handler ran past its handler timeout; the actor crashed with this reason. */
export class HandlerTimeoutError extends define('ERR_HANDLER_TIMEOUT') {}
/** send() with a messageId that is not a non-empty string without NUL of at most 900 UTF-8 bytes. */
export class InvalidMessageIdError extends define('ERR_INVALID_MESSAGE_ID') {}

/** Runtime.start({ cluster }) on a runtime that never imported the cluster layer (cluster/index.ts). */
export class ClusterNotInstalledError extends define('ERR_CLUSTER_NOT_INSTALLED') {}

/** A message addressed by capability (a route) on a runtime started without the router. */
export class RouterNotInstalledError extends define('ERR_ROUTER_NOT_INSTALLED') {}

/** A traceparent given by a caller (ask/send options, Runtime.inTrace) that is not W3C trace context. */
export class InvalidTraceparentError extends define('ERR_INVALID_TRACEPARENT') {}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => Error;
const byName: Record<string, ErrorClass> = {
  ActorNotFoundError, AskTimeoutError, ActorCrashedError, ActorStoppedError, DuplicateActorIdError,
  InvalidSpawnOptionError, UnknownMessageTypeError, MessageNotCloneableError, DefinitionLoadError,
  MailboxFullError, WorkerLostError, RuntimeStoppedError, InvalidDefinitionError, CircuitOpenError, HandlerTimeoutError, DuplicateMessageError,
  InvalidMessageIdError, RouterNotInstalledError, InvalidTraceparentError, ClusterNotInstalledError,
};

/**
 * Let errors of another part (persistence, supervisors) be rebuilt with their class after crossing a thread.
 * Their constructors must take (message, options) like TroupeError's; facts go in `details`.
 */
export function registerErrors(...classes: Array<ErrorClass & { name: string }>): void {
  for (const cls of classes) byName[cls.name] = cls;
}

/** Plain-data form of an error, safe to post between threads. */
export interface ErrorData {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: ErrorData;
  details?: Record<string, unknown>;
  /** An error's own `retryable` mark (the router's retry policy reads it), kept across threads. */
  retryable?: boolean;
}

export function errorToData(err: unknown): ErrorData {
  if (err instanceof Error) {
    const data: ErrorData = { name: err.name, message: err.message, stack: err.stack };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') data.code = code;
    if (err.cause !== undefined) data.cause = errorToData(err.cause);
    const details = (err as TroupeError).details;
    if (details !== undefined) data.details = details;
    const retryable = (err as { retryable?: unknown }).retryable;
    if (typeof retryable === 'boolean') data.retryable = retryable;
    return data;
  }
  return { name: 'Error', message: String(err) };
}

export function reviveError(data: ErrorData): Error {
  const cause = data.cause ? reviveError(data.cause) : undefined;
  const Cls = byName[data.name];
  const err: Error = Cls ? new Cls(data.message, { cause }) : new Error(data.message, { cause });
  if (data.details) (err as TroupeError).details = data.details;
  if (data.retryable !== undefined) (err as { retryable?: boolean }).retryable = data.retryable;
  if (!Cls) {
    err.name = data.name;
    if (data.code) (err as { code?: string }).code = data.code;
  }
  if (data.stack) err.stack = data.stack;
  return err;
}
