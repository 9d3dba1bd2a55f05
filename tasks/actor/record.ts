// The durable record of one graph: what its actor's state holds (plain data: snapshots are msgpack, the state is
// immutable between messages). Definitions and runs are kept in chunks of CHUNK tasks, so a transition copies one
// chunk and the short outer array rather than the whole graph (immer copies every object on a changed path).
// The live index (ready heaps, dependents, counts: tasks/graph/graph.ts) is derived, never stored.
import type { ActorRef } from '../../runtime/index.ts';
import { TaskGraph, type CoreOptions } from '../graph/graph.ts';
import type { DeadlockResolution, GraphOptions, TaskDef, TaskRun } from '../types.ts';

export const CHUNK = 128;

export interface GraphRecord {
  graphId: string;
  options: GraphOptions;
  /** Publish a TaskEvent per transition on the graph's topic. */
  events: boolean;
  /** Bumped by every message that changed the graph: the live index on the actor's thread is that of this rev. */
  rev: number;
  defs: TaskDef[][];
  runs: TaskRun[][];
  seq: number;
  resolutions: DeadlockResolution[];
  cancelled: boolean;
  /** Told 'graphDone' once nothing can move any more. */
  waiters: ActorRef[];
}

export interface GraphInit {
  graphId: string;
  options: GraphOptions;
  events: boolean;
}

export function newRecord(init: GraphInit): GraphRecord {
  return { graphId: init.graphId, options: init.options, events: init.events, rev: 0, defs: [], runs: [], seq: 0, resolutions: [], cancelled: false, waiters: [] };
}

export function coreOptions(r: GraphRecord): CoreOptions {
  return { ...r.options, graphId: r.graphId, events: r.events };
}

/** The live graph of a committed record (frozen: restore copies what it keeps). */
export function restoreGraph(r: GraphRecord): TaskGraph {
  return TaskGraph.restore(coreOptions(r), r.defs.flat(), r.runs.flat(), { seq: r.seq, resolutions: r.resolutions, cancelled: r.cancelled });
}

/**
 * Write what changed into the draft. `depLen` is how many dependencies each stored definition has: a definition
 * is rewritten only when new or when its dependencies changed (edges added, a deadlock victim removed).
 */
export function writeBack(draft: GraphRecord, g: TaskGraph, dirty: readonly number[], depLen: number[]): void {
  for (const i of dirty) {
    const c = Math.floor(i / CHUNK), o = i % CHUNK;
    while (draft.runs.length <= c) {
      draft.runs.push([]);
      draft.defs.push([]);
    }
    const node = g.nodes[i];
    if (depLen[i] !== node.def.dependsOn.length) {
      // Copies: the committed state is frozen, and the graph keeps mutating its own objects.
      draft.defs[c][o] = { ...node.def, dependsOn: [...node.def.dependsOn] };
      depLen[i] = node.def.dependsOn.length;
    }
    draft.runs[c][o] = { ...node.run };
  }
  if (draft.seq !== g.nextSeq) draft.seq = g.nextSeq;
  if (draft.cancelled !== g.cancelled) draft.cancelled = g.cancelled;
  if (draft.resolutions.length !== g.resolutions.length) draft.resolutions = [...g.resolutions];
}
