// One graph seen from the outside (what TaskManager.submit and graph(id) return). Every call is an ask to the graph's
// actor, through the manager: a durable graph's actor may have been stopped since (a finished snapshot graph stops
// once its record is on disk), and is then started again from its record.
import { reviveError } from '../runtime/errors.ts';
import type { ActorRef } from '../runtime/index.ts';
import { taskTopic, type SubmitReply } from './actor/graph-actor.ts';
import { TaskNotFoundError } from './errors.ts';
import type { AddResult, CriticalPath, DeadlockResolution, GraphSummary, Progress, TaskEdge, TaskEvent, TaskOutcome, TaskSpec } from './types.ts';

/** What a handle needs of its manager (tasks/manager.ts). */
export interface GraphHost {
  askGraph<R>(handle: GraphHandle, type: string, payload?: unknown): Promise<R>;
  whenDone(handle: GraphHandle): Promise<GraphSummary>;
  follow(graphId: string, fn: (e: TaskEvent) => void): Promise<() => Promise<void>>;
  /** Stop the graph's actor and forget the graph (see GraphHandle.release). */
  release(handle: GraphHandle): Promise<void>;
  /** Before tasks are added: their capabilities, and the registry told the graph is not finished. */
  beforeAdd(handle: GraphHandle, specs: readonly TaskSpec[]): Promise<void>;
  /** The add that beforeAdd let through was answered (or failed). */
  afterAdd(handle: GraphHandle): void;
}

export function unwrap(reply: SubmitReply): AddResult {
  if (!reply.ok) throw reviveError(reply.error);
  return { added: reply.added, resolutions: reply.resolutions };
}

export class GraphHandle {
  /** Subscribe an actor to this topic (ctx.subscribe) to receive 'taskEvents' (an array of TaskEvent). */
  readonly topic: string;

  /** @param ref the graph's actor as last known (node -1: to be looked up) */
  constructor(private readonly host: GraphHost, readonly id: string, public ref: ActorRef) {
    this.topic = taskTopic(id);
  }

  progress(): Promise<Progress> {
    return this.host.askGraph(this, 'progress');
  }
  /** A task's status, attempts, and result (completed) or error and reason. */
  async result(taskId: string): Promise<TaskOutcome> {
    const o = await this.host.askGraph<TaskOutcome | undefined>(this, 'result', taskId);
    if (o === undefined) throw new TaskNotFoundError(`no task '${taskId}' in graph '${this.id}'`, { details: { taskId } });
    return o;
  }
  outcomes(): Promise<TaskOutcome[]> {
    return this.host.askGraph(this, 'outcomes');
  }
  /**
   * Once nothing can move any more: every task ended (completed, failed, cancelled), or stuck. A durable graph's
   * outcome is on disk by then (journal: every outcome journaled; snapshot: the last snapshot written).
   */
  done(): Promise<GraphSummary> {
    return this.host.whenDone(this);
  }
  /** Cancel one task (its dependents are skipped) or, without an id, the whole graph; running ones are told to stop. */
  async cancel(taskId?: string): Promise<void> {
    unwrap(await this.host.askGraph<SubmitReply>(this, 'cancel', taskId));
  }
  /** Add tasks, and edges between tasks already there, to the running graph: all or nothing. */
  async add(tasks: TaskSpec[], edges?: TaskEdge[]): Promise<AddResult> {
    await this.host.beforeAdd(this, tasks);
    try {
      return unwrap(await this.host.askGraph<SubmitReply>(this, 'submit', { tasks, edges }));
    } finally {
      this.host.afterAdd(this);
    }
  }
  detectDeadlocks(): Promise<string[][]> {
    return this.host.askGraph(this, 'detectDeadlocks');
  }
  resolutions(): Promise<DeadlockResolution[]> {
    return this.host.askGraph(this, 'resolutions');
  }
  criticalPath(): Promise<CriticalPath> {
    return this.host.askGraph(this, 'criticalPath');
  }
  summary(): Promise<GraphSummary> {
    return this.host.askGraph(this, 'summary');
  }
  /**
   * Let the graph go: its actor is stopped and the graph forgotten (not listed, not resumed; asks then fail with
   * GraphNotFoundError). What an in-memory graph held is gone; a durable graph's record is deleted from the store (its
   * snapshot and journal), after which its id can be used again. A finished durable graph's actor is stopped anyway
   * (and started again when asked): this is for graphs kept in memory, and for forgetting any graph.
   */
  release(): Promise<void> {
    return this.host.release(this);
  }
  /** Follow this graph's transitions; resolves with the unsubscribe function. */
  on(listener: (e: TaskEvent) => void): Promise<() => Promise<void>> {
    return this.host.follow(this.id, listener);
  }
}
