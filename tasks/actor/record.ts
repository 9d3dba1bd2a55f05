// The durable record of one graph: what its actor's state holds (plain data: snapshots are msgpack, the state is
// immutable between messages). The live index (ready heaps, dependents, counts: tasks/graph/graph.ts) is derived,
// never stored; an in-memory graph keeps its tasks in the live index only (graph-actor.ts), so this is a durable
// graph's. Definitions are kept in chunks of CHUNK tasks and runs in chunks of RUN_CHUNK, each msgpack-packed once
// when one of its tasks changes: the kernel encodes an actor's whole state at every snapshot (with a durable
// mailbox, at nearly every commit), and a snapshot then copies the bytes of the unchanged chunks instead of encoding
// every task again. A run is packed as a tuple (runTuple): an object's keys, written into every packed value, were
// most of the bytes and of the time of a write-back; a definition too (defTuple). A running attempt is not recorded.
import { pack, unpack } from 'msgpackr';
import type { ActorRef } from '../../runtime/index.ts';
import { TaskGraph, type CoreOptions } from '../graph/graph.ts';
import type { DeadlockResolution, GraphOptions, TaskDef, TaskRun, TaskStatus } from '../types.ts';

export const CHUNK = 64;
/** Runs per chunk: an outcome repacks its run's chunk, so smaller than the definitions' (which rarely change). */
export const RUN_CHUNK = 16;

export interface GraphRecord {
  graphId: string;
  options: GraphOptions;
  /** Publish a TaskEvent per transition on the graph's topic. */
  events: boolean;
  /** Bumped by every message that changed the graph: the live index on the actor's thread is that of this rev. */
  rev: number;
  /** Definitions, CHUNK per chunk, and runs, RUN_CHUNK per chunk, msgpack-packed (arrays in records of old versions). */
  defs: Array<TaskDef[] | Uint8Array>;
  runs: Array<RunEntry[] | Uint8Array>;
  seq: number;
  resolutions: DeadlockResolution[];
  cancelled: boolean;
  /** Told 'graphDone' once nothing can move any more. */
  waiters: ActorRef[];
  /** Tasks were given ('create'): a second create under this id is another graph's, refused. */
  created?: boolean;
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

/** The live graph of a committed record (restore copies what it keeps). */
export function restoreGraph(r: GraphRecord): { graph: TaskGraph; chunks: Chunks } {
  const defs = r.defs.flatMap((c) => decode<DefEntry>(c)).map(fromDefEntry);
  const runs = r.runs.flatMap((c) => decode<RunEntry>(c)).map(fromEntry);
  const graph = TaskGraph.restore(coreOptions(r), defs, runs, { seq: r.seq, resolutions: r.resolutions, cancelled: r.cancelled });
  // Runs chunked otherwise (a record of an older version): every chunk is rewritten at the next write-back.
  const relayout = r.runs.some((c, k) => k < r.runs.length - 1 && decode(c).length !== RUN_CHUNK);
  return { graph, chunks: { depLen: defs.map((d) => d.dependsOn.length), relayout } };
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
  if (proto !== Object.prototype && proto !== null) return v; // a Map, a Date, bytes...: a value, read as it is
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = plain((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * What the graph's actor keeps of its record on its thread, to write back only what changed: how many
 * dependencies each stored definition has (a definition is rewritten when new or when they changed: edges added, a
 * deadlock victim removed), and whether the runs must be chunked again.
 */
export interface Chunks {
  depLen: number[];
  relayout: boolean;
}

function decode<T>(c: T[] | Uint8Array): T[] {
  return c instanceof Uint8Array ? (unpack(c) as T[]) : c;
}

/** Bytes of its own (msgpackr packs into a buffer it reuses), a plain Uint8Array (a Buffer cannot be sent). */
export function packed(value: unknown): Uint8Array {
  return new Uint8Array(pack(value));
}

/** The definitions of a new graph as the record keeps them (the manager packs them so: one encode per submit). */
export function packDefs(defs: readonly TaskDef[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let c = 0; c * CHUNK < defs.length; c++) out.push(packed(defs.slice(c * CHUNK, (c + 1) * CHUNK).map(defTuple)));
  return out;
}

export function unpackDefs(chunks: readonly Uint8Array[]): TaskDef[] {
  return chunks.flatMap((c) => (unpack(c) as DefEntry[]).map(fromDefEntry));
}

/** A stored definition: a tuple (defTuple), or an object (records of older versions). */
export type DefEntry = unknown[] | TaskDef;
/** A definition's optional fields, in tuple order (append only: they are stored). */
const OPTIONAL = ['capability', 'target', 'payload', 'retry', 'timeoutMs'] as const;

/**
 * What the record keeps of a definition: `[id, type, priority, dependsOn, present, ...values]`, `present` a bit per
 * optional field given (OPTIONAL), their values after it in that order. An object's keys, written into every packed
 * definition, were more than half of a submit's create (journaled) and of every snapshot of the record.
 */
export function defTuple(d: TaskDef): unknown[] {
  const t: unknown[] = [d.id, d.type, d.priority, d.dependsOn, 0];
  let present = 0;
  for (let k = 0; k < OPTIONAL.length; k++) {
    const v = d[OPTIONAL[k]];
    if (v === undefined) continue;
    present |= 1 << k;
    t.push(v);
  }
  t[4] = present;
  return t;
}

function fromDefEntry(e: DefEntry): TaskDef {
  if (!Array.isArray(e)) return e;
  const d: TaskDef = { id: e[0] as string, type: e[1] as string, priority: e[2] as number, dependsOn: e[3] as string[] };
  const present = e[4] as number;
  for (let k = 0, at = 5; k < OPTIONAL.length; k++) if ((present & (1 << k)) !== 0) (d as unknown as Record<string, unknown>)[OPTIONAL[k]] = e[at++];
  return d;
}

// ---- runs --------------------------------------------------------------------------------------------------------

/** A stored run: a tuple (runTuple), or an object (records of older versions). */
export type RunEntry = unknown[] | TaskRun;
/** Status codes of run tuples: append only, never reorder (they are stored). */
const STATUS: readonly TaskStatus[] = ['blocked', 'ready', 'running', 'completed', 'failed', 'skipped', 'cancelled'];
const CODE = Object.fromEntries(STATUS.map((s, i) => [s, i])) as Record<TaskStatus, number>;

/**
 * What the record keeps of a run, as `[status, attempts, q, endedAt, result, error, reason, retryAt, firstStartedAt,
 * startedAt]` (trailing undefineds dropped), a running attempt as the ready task it was before it started. A
 * dispatch writes nothing (most of a graph's transitions are dispatches); whoever resumes the record sends that
 * attempt again, with the same message id (`graph/task/attempts + 1`), and an outcome of it still counts
 * (TaskGraph.complete and fail take it for a ready task whose next attempt it is).
 */
export function runTuple(run: TaskRun): unknown[] {
  const running = run.status === 'running';
  const attempts = running ? run.attempts - 1 : run.attempts;
  const t: unknown[] = [CODE[running ? 'ready' : run.status], attempts, run.q, run.endedAt, run.result, run.error, run.reason, run.retryAt,
    attempts > 0 ? run.firstStartedAt : undefined, running ? undefined : run.startedAt];
  let n = t.length;
  while (n > 3 && t[n - 1] === undefined) n--;
  t.length = n;
  return t;
}

function fromEntry(e: RunEntry): TaskRun {
  if (!Array.isArray(e)) return { ...e };
  const run: TaskRun = { status: STATUS[e[0] as number], attempts: e[1] as number, q: e[2] as number };
  if (e[3] !== undefined) run.endedAt = e[3] as number;
  if (e[4] !== undefined) run.result = e[4];
  if (e[5] !== undefined) run.error = e[5] as TaskRun['error'];
  if (e[6] !== undefined) run.reason = e[6] as TaskRun['reason'];
  if (e[7] !== undefined) run.retryAt = e[7] as number;
  if (e[8] !== undefined) run.firstStartedAt = e[8] as number;
  if (e[9] !== undefined) run.startedAt = e[9] as number;
  return run;
}

/**
 * Write what changed into the draft: each chunk holding a changed task is packed again from the live graph and
 * assigned whole (the draft copies only the short outer arrays).
 */
export function writeBack(draft: GraphRecord, kept: Chunks, g: TaskGraph, dirty: readonly number[]): void {
  if (dirty.length > 0 || kept.relayout) {
    const nodes = g.nodes;
    const depLen = kept.depLen;
    const runChunks = new Set<number>(), defChunks = new Set<number>();
    for (const i of dirty) {
      runChunks.add(Math.floor(i / RUN_CHUNK));
      if (depLen[i] !== nodes[i].def.dependsOn.length) {
        defChunks.add(Math.floor(i / CHUNK));
        depLen[i] = nodes[i].def.dependsOn.length;
      }
    }
    if (kept.relayout) {
      kept.relayout = false;
      draft.runs = [];
      for (let c = 0; c * RUN_CHUNK < nodes.length; c++) runChunks.add(c);
    }
    const runs = draft.runs;
    for (const c of runChunks) {
      const chunk: unknown[][] = [];
      for (let i = c * RUN_CHUNK; i < Math.min(nodes.length, (c + 1) * RUN_CHUNK); i++) chunk.push(runTuple(nodes[i].run));
      runs[c] = packed(chunk);
    }
    if (defChunks.size > 0) {
      const defs = draft.defs;
      for (const c of defChunks) defs[c] = packed(nodes.slice(c * CHUNK, (c + 1) * CHUNK).map((n) => defTuple(n.def)));
    }
  }
  if (draft.seq !== g.nextSeq) draft.seq = g.nextSeq;
  if (draft.cancelled !== g.cancelled) draft.cancelled = g.cancelled;
  if (draft.resolutions.length !== g.resolutions.length) draft.resolutions = [...g.resolutions];
}
