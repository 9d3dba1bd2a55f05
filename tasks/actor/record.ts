// The durable record of one graph: what its actor's state holds (plain data: snapshots are msgpack, the state is
// immutable between messages). Definitions and runs are kept in chunks of CHUNK tasks, so a transition copies one
// chunk and the short outer array rather than the whole graph (immer copies every object on a changed path).
// The live index (ready heaps, dependents, counts: tasks/graph/graph.ts) is derived, never stored.
import type { ActorRef } from '../../runtime/index.ts';
import { TaskGraph, type CoreOptions } from '../graph/graph.ts';
import type { DeadlockResolution, GraphOptions, TaskDef, TaskRun } from '../types.ts';

export const CHUNK = 64;

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
 * Write what changed into the draft. Each changed chunk is rebuilt here as a frozen copy of the committed one (a
 * slice) and assigned whole: immer then copies only the short outer arrays and stops at the frozen chunk, instead
 * of drafting it and walking all its tasks to freeze them (that walk was most of a message's cost). `base` is the
 * committed record. `depLen` is how many dependencies each stored definition has: a definition is rewritten only
 * when new or when its dependencies changed (edges added, a deadlock victim removed).
 */
export function writeBack(draft: GraphRecord, base: GraphRecord, g: TaskGraph, dirty: readonly number[], depLen: number[]): void {
  if (dirty.length > 0) {
    const runs = new Map<number, TaskRun[]>();
    const defs = new Map<number, TaskDef[]>();
    for (const i of dirty) {
      const c = Math.floor(i / CHUNK), o = i % CHUNK;
      let rc = runs.get(c);
      if (rc === undefined) runs.set(c, (rc = base.runs[c]?.slice() ?? []));
      const node = g.nodes[i];
      // Copies: the graph keeps mutating its own objects.
      rc[o] = Object.freeze({ ...node.run });
      if (depLen[i] !== node.def.dependsOn.length) {
        let dc = defs.get(c);
        if (dc === undefined) defs.set(c, (dc = base.defs[c]?.slice() ?? []));
        dc[o] = Object.freeze({ ...node.def, dependsOn: Object.freeze([...node.def.dependsOn]) as string[] });
        depLen[i] = node.def.dependsOn.length;
      }
    }
    for (const [c, rc] of runs) draft.runs[c] = Object.freeze(rc) as TaskRun[];
    for (const [c, dc] of defs) draft.defs[c] = Object.freeze(dc) as TaskDef[];
  }
  if (draft.seq !== g.nextSeq) draft.seq = g.nextSeq;
  if (draft.cancelled !== g.cancelled) draft.cancelled = g.cancelled;
  if (draft.resolutions.length !== g.resolutions.length) draft.resolutions = [...g.resolutions];
}
