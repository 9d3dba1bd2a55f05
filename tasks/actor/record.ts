// The durable record of one graph: what its actor's state holds (plain data: snapshots are msgpack, the state is
// immutable between messages). Definitions and runs are kept in chunks of CHUNK tasks, so a transition copies one
// chunk and the short outer array rather than the whole graph (immer copies every object on a changed path).
// The live index (ready heaps, dependents, counts: tasks/graph/graph.ts) is derived, never stored.
// A durable graph keeps each chunk msgpack-packed, packed once when it changes: the kernel encodes an actor's whole
// state at every snapshot (with a durable mailbox, at nearly every commit), and a snapshot then copies the bytes of
// the unchanged chunks instead of encoding every task again (that encode was most of a journaled graph's CPU).
import { pack, unpack } from 'msgpackr';
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
  /** Chunks of CHUNK tasks: arrays (an in-memory graph) or their msgpack bytes (a durable graph). */
  defs: Array<TaskDef[] | Uint8Array>;
  runs: Array<TaskRun[] | Uint8Array>;
  seq: number;
  resolutions: DeadlockResolution[];
  cancelled: boolean;
  /** Told 'graphDone' once nothing can move any more. */
  waiters: ActorRef[];
  /** Which actor's record this is (an in-memory graph's tasks are kept apart from it, by this: graph-actor.ts). */
  instance?: string;
}

export interface GraphInit {
  graphId: string;
  options: GraphOptions;
  events: boolean;
}

let instances = 0;

export function newRecord(init: GraphInit): GraphRecord {
  return { graphId: init.graphId, options: init.options, events: init.events, rev: 0, defs: [], runs: [], seq: 0, resolutions: [], cancelled: false, waiters: [], instance: `${init.graphId}#${++instances}#${Date.now()}` };
}

export function coreOptions(r: GraphRecord): CoreOptions {
  return { ...r.options, graphId: r.graphId, events: r.events };
}

/** The live graph of a committed record, from its chunks (chunksOf; restore copies what it keeps). */
export function restoreGraph(r: GraphRecord, chunks: Chunks): TaskGraph {
  return TaskGraph.restore(coreOptions(r), chunks.defs.flat(), chunks.runs.flat(), { seq: r.seq, resolutions: r.resolutions, cancelled: r.cancelled });
}

/**
 * The record as plain data, read through the actor's draft (the kernel hands a handler a copy-on-write proxy of the
 * committed state, runtime/workcopy.ts): only when the live graph is rebuilt (a start, a restart, a rolled-back
 * message). Whatever is read through a draft is a draft too, so nothing of it may be kept or written back as is.
 */
export function plainRecord(state: GraphRecord): GraphRecord {
  return plain(state) as GraphRecord;
}

function plain(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(plain);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v; // a Map, a Date...: a value, read as it is
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = plain((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * The record's task chunks as last written, kept by the graph's actor on its thread: plain frozen arrays, never
 * read back through the draft (a chunk read through the draft is a proxy, and its tasks too: slicing one copied
 * proxies into the state, and every snapshot then encoded the record through them, ~20 ms per 2,000 tasks).
 * `depLen` is how many dependencies each stored definition has.
 */
export interface Chunks {
  defs: TaskDef[][];
  runs: TaskRun[][];
  depLen: number[];
}

/** The record's chunks as arrays (unpacked). */
export function chunksOf(r: GraphRecord): Chunks {
  const defs = r.defs.map((c) => Object.freeze(decode<TaskDef>(c)) as TaskDef[]);
  return { defs, runs: r.runs.map((c) => Object.freeze(decode<TaskRun>(c)) as TaskRun[]), depLen: defs.flat().map((d) => d.dependsOn.length) };
}

function decode<T>(c: T[] | Uint8Array): T[] {
  return c instanceof Uint8Array ? (unpack(c) as T[]) : c.slice();
}

/**
 * What the record keeps of a run: a copy, and a running attempt as the ready task it was before it started. A
 * dispatch writes nothing (most of a graph's transitions are dispatches); whoever resumes the record sends that
 * attempt again, with the same message id (`graph/task/attempts + 1`), and an outcome of it still counts
 * (TaskGraph.complete and fail take it for a ready task whose next attempt it is).
 */
export function recorded(run: TaskRun): TaskRun {
  if (run.status !== 'running') return Object.freeze({ ...run });
  const { startedAt: _s, firstStartedAt, ...rest } = run;
  const r: TaskRun = { ...rest, status: 'ready', attempts: run.attempts - 1 };
  if (r.attempts > 0 && firstStartedAt !== undefined) r.firstStartedAt = firstStartedAt;
  return Object.freeze(r);
}

/** What the state holds of a chunk: its bytes for a durable graph (copied: msgpackr packs into a shared buffer). */
function stored<T>(chunk: T[], packed: boolean): T[] | Uint8Array {
  return packed ? Uint8Array.prototype.slice.call(pack(chunk)) : chunk;
}

/**
 * Write what changed into the draft. Each changed chunk is rebuilt from the kept one (a slice) as a frozen array and
 * assigned whole: the draft copies only the short outer arrays and stops at the frozen chunk. A definition is
 * rewritten only when new or when its dependencies changed (edges added, a deadlock victim removed).
 */
export function writeBack(draft: GraphRecord, kept: Chunks, g: TaskGraph, dirty: readonly number[]): void {
  if (dirty.length > 0) {
    const runs = new Map<number, TaskRun[]>();
    const defs = new Map<number, TaskDef[]>();
    const depLen = kept.depLen;
    for (const i of dirty) {
      const c = Math.floor(i / CHUNK), o = i % CHUNK;
      let rc = runs.get(c);
      if (rc === undefined) runs.set(c, (rc = kept.runs[c]?.slice() ?? []));
      const node = g.nodes[i];
      // Copies: the graph keeps mutating its own objects.
      rc[o] = recorded(node.run);
      if (depLen[i] !== node.def.dependsOn.length) {
        let dc = defs.get(c);
        if (dc === undefined) defs.set(c, (dc = kept.defs[c]?.slice() ?? []));
        dc[o] = Object.freeze({ ...node.def, dependsOn: Object.freeze([...node.def.dependsOn]) as string[] });
        depLen[i] = node.def.dependsOn.length;
      }
    }
    const packed = draft.options.durable;
    if (runs.size > 0) {
      const all = draft.runs;
      for (const [c, rc] of runs) all[c] = stored((kept.runs[c] = Object.freeze(rc) as TaskRun[]), packed);
    }
    if (defs.size > 0) {
      const all = draft.defs;
      for (const [c, dc] of defs) all[c] = stored((kept.defs[c] = Object.freeze(dc) as TaskDef[]), packed);
    }
  }
  if (draft.seq !== g.nextSeq) draft.seq = g.nextSeq;
  if (draft.cancelled !== g.cancelled) draft.cancelled = g.cancelled;
  if (draft.resolutions.length !== g.resolutions.length) draft.resolutions = [...g.resolutions];
}
