/**
 * The wire between threads. Each post is one flat array holding many operations, each an op code followed by a
 * fixed number of fields (flat arrays clone faster than arrays of objects). Control operations carry one object.
 */
export const Op = {
  /** to, type, payload, from, ask; its traceparent is the post's current one (see Trace) */
  Msg: 1,
  /** ask, code (ReplyCode), value | ErrorData | the message id of a receipt */
  Reply: 2,
  /** topic, type, payload, from, trace */
  Publish: 3,
  /** target, kind */
  Watch: 4,
  /** target */
  Unwatch: 5,
  /** target, kind, reason */
  Terminated: 6,
  /** target, reason */
  Stop: 7,
  /** one Control object */
  Control: 8,
  /** to, type, payload, from, ask, messageId, trace: a send, acknowledged (through `ask`) once journaled */
  Send: 9,
  /** to, type, payload, from, ask, replyNode, messageId, ack: a message passed on with its reply address (a cluster) */
  Forward: 10,
  /**
   * traceparent (a W3C traceparent or '': runtime/tracing.ts): the trace of the Msg operations after it in the same
   * post, until the next Trace; a post starts with ''. Written only when it changes (Transport.outTraced), so an
   * untraced message, or a handler's run of tells in one trace, carries no trace field of its own.
   */
  Trace: 11,
} as const;

/** How a Reply's value reads: a result, an error, or a send's acknowledgement (value: the message id). */
export const ReplyCode = { Error: 0, Ok: 1, Receipt: 2, DuplicateReceipt: 3 } as const;

/** Number of fields after the op code, indexed by op code. */
export const opArity = [0, 5, 3, 5, 2, 1, 3, 2, 1, 7, 8, 1];

/** Control-plane requests and answers (spawning, lookups, stats, shutdown). Rare, so plain objects. */
export type Control =
  | { op: 'spawn'; req: number; id: string; module: string; kind: string; args: unknown; mailbox: unknown; supervision?: import('./cell.ts').Supervision }
  | { op: 'spawned'; req: number; error?: import('./errors.ts').ErrorData }
  | { op: 'spawn-request'; req: number; module: string; kind: string; options: Record<string, unknown> }
  | { op: 'spawn-result'; req: number; ref?: { id: string; kind: string; node: number }; error?: import('./errors.ts').ErrorData }
  | { op: 'lookup'; req: number; id: string }
  | { op: 'lookup-result'; req: number; ref?: { id: string; kind: string; node: number } }
  | { op: 'gone'; id: string; reason: string }
  | { op: 'node-lost'; node: number; survivors: string[] }
  | { op: 'rewatch'; node: number }
  | { op: 'reconnect'; node: number; port: import('node:worker_threads').MessagePort }
  | { op: 'ping'; req: number }
  | { op: 'pong'; req: number }
  // supervision: reports from the child's thread to the main thread, and the supervisor's decisions back
  // stopping: it crashed while a stop was queued, and stopped (the supervisor reports it and decides nothing)
  // incarnation: the one that crashed (for the crash report and its log line)
  | { op: 'crashed'; id: string; kind: string; messageType: string; error: import('./errors.ts').ErrorData; trial: boolean; stopping?: true; incarnation?: number; traceId?: string }
  | { op: 'trial-ok'; id: string }
  // restarted on its own thread under a restart credit; the supervisor counts it (see supervisors/policy/credit.ts)
  | { op: 'crashed-restarted'; id: string; kind: string; messageType: string; error: import('./errors.ts').ErrorData; incarnation?: number; traceId?: string }
  | { op: 'revoked'; id: string; seq: number }
  | { op: 'restart'; id: string; credit: number }
  | { op: 'grant'; id: string; credit: number }
  | { op: 'revoke'; id: string; seq: number }
  // retryAt: in the runtime's clock (the supervisor's), read on workers through runtime/timebase.ts
  | { op: 'circuit-open'; id: string; retryAt: number }
  | { op: 'half-open'; id: string }
  | { op: 'kill'; id: string; reason: string }
  | { op: 'stats'; req: number; actors: boolean }
  | { op: 'stats-result'; req: number; stats: import('./stats.ts').NodeStats }
  // introspection (runtime/thread-metrics.ts, Runtime.metricsSnapshot and Runtime.inspect)
  | { op: 'metrics'; req: number }
  | { op: 'metrics-result'; req: number; metrics: import('./thread-metrics.ts').ThreadMetrics }
  | { op: 'inspect'; req: number; id: string; state: boolean }
  | { op: 'inspect-result'; req: number; inspection?: import('./stats.ts').ActorInspection; error?: import('./errors.ts').ErrorData }
  | { op: 'shutdown'; req: number }
  | { op: 'shutdown-done'; req: number }
  // failed: stand-ins a replacement thread could not create (runtime/worker.ts)
  | { op: 'ready'; failed?: string[] }
  // who offers which capabilities: the main thread's changes of one turn, to every worker (runtime/directory.ts)
  // (reset: the whole directory, sent first on a new channel to a thread)
  | { op: 'directory'; changes: import('./directory.ts').DirectoryChange[]; reset?: true };
