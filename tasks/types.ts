// The shapes of task graphs, shared by the pure core (graph/), the durable actor (actor/) and the manager. All plain
// data: they live in a durable actor's state and cross threads.
import type { PriorityName } from './priority.ts';

export type TaskStatus = 'blocked' | 'ready' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'skipped', 'cancelled']);

/** How dependents of a task that failed for good are treated. */
export type FailurePolicy = 'fail-fast' | 'continue-independent';
/** What happens to a cycle: remove its lowest-priority task (default), refuse the batch, or keep it (reported stuck). */
export type DeadlockPolicy = 'remove-lowest' | 'reject' | 'report';

/** Retry policy fields (router/policy/retry.ts's RetryPolicy, partial), or false for a single attempt. */
export type TaskRetry = Readonly<Record<string, unknown>> | false;

/** A task as submitted. */
export interface TaskSpec<P = unknown> {
  id: string;
  /** Message type the worker handles. */
  type: string;
  /** Dispatched through the router to a live actor offering this capability... */
  capability?: string;
  /** ...or to this actor id. */
  target?: string;
  payload?: P;
  priority?: number | PriorityName;
  dependsOn?: readonly string[];
  retry?: TaskRetry;
  /** One attempt's ask timeout (default: the graph's, 60 s). */
  timeoutMs?: number;
}

/** A task as stored: validated, priority a number, dependencies an array. */
export interface TaskDef {
  id: string;
  type: string;
  capability?: string;
  target?: string;
  payload?: unknown;
  priority: number;
  dependsOn: string[];
  retry?: TaskRetry;
  timeoutMs?: number;
}

/** Why a task ended the way it did (or waits). */
export interface TaskReason {
  code: 'dependency-failed' | 'fail-fast' | 'cancelled' | 'deadlock' | 'error' | 'retry-wait';
  message: string;
  /** The task whose failure or cancellation this follows from. */
  dependency?: string;
  /** deadlock: the cycle's task ids. */
  cycle?: string[];
}

/** Plain form of an error (runtime/errors.ts ErrorData). */
export interface TaskError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
  cause?: TaskError;
}

/** A task's run: everything that changes. */
export interface TaskRun {
  status: TaskStatus;
  /** Attempts started (the running one included). */
  attempts: number;
  /** Ready-queue order: FIFO within a priority. */
  q: number;
  result?: unknown;
  error?: TaskError;
  reason?: TaskReason;
  /** Blocked for a retry backoff until this time. */
  retryAt?: number;
  firstStartedAt?: number;
  startedAt?: number;
  endedAt?: number;
}

/** One transition, as published to the graph's topic. */
export interface TaskEvent {
  graphId: string;
  taskId: string;
  from: TaskStatus | 'new';
  to: TaskStatus;
  at: number;
  attempt: number;
  reason?: TaskReason;
  error?: TaskError;
}

export type GraphStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'stuck';

export interface Progress {
  graphId: string;
  status: GraphStatus;
  total: number;
  blocked: number;
  ready: number;
  running: number;
  completed: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Of the blocked: waiting out a retry backoff. */
  retrying: number;
}

/** A cycle found and how it was resolved (`removed` is absent when the policy keeps it). */
export interface DeadlockResolution {
  cycle: string[];
  removed?: string;
  at: number;
}

/** Why a graph is stuck: tasks blocked on something that can never complete. */
export interface StuckReport {
  blocked: string[];
  cycles: string[][];
}

export interface AddResult {
  added: string[];
  resolutions: DeadlockResolution[];
}

/** A new dependency between tasks already in the graph (the dependent must not have started yet). */
export interface TaskEdge {
  task: string;
  dependsOn: string;
}

export interface GraphOptions {
  failurePolicy: FailurePolicy;
  deadlock: DeadlockPolicy;
  /** Tasks running at once in this graph. */
  concurrency: number;
  /** Tasks running at once per capability (or target), on top of the graph's limit. */
  perCapability: Record<string, number>;
  /** Default retry policy of the graph's tasks. */
  retry: TaskRetry;
  /** Default ask timeout of one attempt. */
  timeoutMs: number;
  /** Payloads and results must be msgpack-encodable too (they are stored in LMDB). */
  durable: boolean;
  /**
   * 'router' (default): each attempt is routed by the router (least loaded unless the strategy says otherwise).
   * 'sticky': every attempt of a task goes to the same capable actor (rendezvous hashing of the task id over the
   * actors offering it), for idempotent workers that recognise re-dispatches in their own state.
   */
  routing: 'router' | 'sticky';
}

export interface TaskOutcome {
  id: string;
  status: TaskStatus;
  attempts: number;
  result?: unknown;
  error?: TaskError;
  reason?: TaskReason;
}

/** What a worker receives for one attempt: its handler for `type` gets this as the payload. */
export interface TaskMessage<P = unknown> {
  graphId: string;
  taskId: string;
  attempt: number;
  /** Stable across re-dispatches of this attempt (after a crash): `${graphId}/${taskId}/${attempt}`. */
  messageId: string;
  payload: P;
  /** The results of the tasks it depends on, by id. */
  deps: Record<string, unknown>;
}

/** What a worker gets as a 'cancel' message when a running task is cancelled. */
export interface TaskCancel {
  graphId: string;
  taskId: string;
  attempt: number;
  messageId: string;
}

export interface CriticalPath {
  /** The longest chain of dependencies, weighted by observed (or estimated) durations. */
  path: string[];
  ms: number;
  /** Estimated time left (ms), undefined before any task has completed (nothing to estimate from). */
  remainingMs?: number;
}

export interface GraphSummary {
  graphId: string;
  status: GraphStatus;
  progress: Progress;
  stuck?: StuckReport;
}
