// A durable graph actor's record as the kernel hands it to handlers: a copy-on-write draft (runtime/workcopy.ts) over
// a run of messages. What writeBack stores must be plain data, never drafts (a chunk sliced out of the draft once
// copied proxies into the state, and every snapshot then encoded the record through them); the record keeps its
// chunks packed, and a record rebuilt from the committed state gives back the same graph, a running attempt as the
// ready task it was (a dispatch is not recorded) whose outcome still counts.
import { describe, expect, it } from 'vitest';
import { deepFreeze, isWorkDraft, WorkCopy } from '../../runtime/workcopy.ts';
import { TaskGraph } from '../../tasks/graph/graph.ts';
import { pack } from 'msgpackr';
import { CHUNK, newRecord, packDefs, packed, plainRecord, restoreGraph, RUN_CHUNK, unpackDefs, writeBack, type GraphRecord } from '../../tasks/actor/record.ts';
import type { TaskDef } from '../../tasks/types.ts';
import { graphOptions } from '../../tasks/options.ts';
import type { TaskSpec } from '../../tasks/types.ts';

const N = CHUNK * 3 + 5;
const specs: TaskSpec[] = Array.from({ length: N }, (_, i) => ({ id: `t${i}`, type: 'work', capability: 'c', payload: { i }, dependsOn: i > 0 ? [`t${i - 1}`] : [] }));

function drafts(v: unknown, seen = new Set<unknown>()): number {
  if (typeof v !== 'object' || v === null || seen.has(v)) return 0;
  seen.add(v);
  if (isWorkDraft(v)) return 1;
  if (v instanceof Uint8Array) return 0;
  let n = 0;
  for (const k of Object.keys(v)) n += drafts((v as Record<string, unknown>)[k], seen);
  return n;
}

describe('the graph record', () => {
  const durable = true;
  it('written back through working copies over many messages, holds no drafts and restores the same graph', () => {
    const options = graphOptions({ tasks: specs, retry: false, events: false }, durable);
    const g = new TaskGraph({ ...options, graphId: 'g' });
    let state: GraphRecord = newRecord({ graphId: 'g', options, events: false });
    deepFreeze(state);
    const kept = restoreGraph(state).chunks;
    // One message: a working copy over the committed state, the graph's changes written back, committed.
    const message = (change: () => void) => {
      const wc = new WorkCopy(state);
      wc.begin();
      change();
      const draft = wc.draft as GraphRecord;
      void draft.runs[0]; // a handler reading the record makes drafts of what it reads
      writeBack(draft, kept, g, g.takeDirty());
      draft.rev++;
      wc.end();
      state = wc.commit() as GraphRecord;
    };
    message(() => g.add(specs, 0));
    let mid: GraphRecord | undefined;
    for (let now = 1; ; now++) {
      const d = g.next(now);
      if (d === undefined) break;
      // Halfway, a record taken while a task runs: dispatches are not written back.
      if (d.index === Math.floor(N / 2)) {
        message(() => undefined);
        mid = state;
      }
      message(() => g.complete(d.index, d.attempt, { done: d.def.id }, now));
    }
    expect(g.progress().completed).toBe(N);
    expect(drafts(state)).toBe(0);
    expect(state.runs.length).toBe(Math.ceil(N / RUN_CHUNK));
    expect(state.defs.length).toBe(Math.ceil(N / CHUNK));
    for (const c of [...state.runs, ...state.defs]) expect(c instanceof Uint8Array).toBe(true);
    const back = restoreGraph(plainRecord(state)).graph;
    expect(back.nodes.map((n) => n.def.id)).toEqual(g.nodes.map((n) => n.def.id));
    expect(back.nodes.map((n) => n.run)).toEqual(g.nodes.map((n) => n.run));
    expect(back.outcome(`t${N - 1}`)).toMatchObject({ status: 'completed', result: { done: `t${N - 1}` } });
    // The running task was recorded ready, its attempt not counted; resumed, the same attempt goes out again, and
    // an outcome of that attempt (a journaled one replayed) counts without a dispatch.
    const h = Math.floor(N / 2);
    const resumed = restoreGraph(plainRecord(mid!)).graph;
    expect(resumed.outcome(`t${h}`)).toMatchObject({ status: 'ready', attempts: 0 });
    expect(resumed.next(0)).toMatchObject({ index: h, attempt: 1 });
    const replayed = restoreGraph(plainRecord(mid!)).graph;
    expect(replayed.complete(h, 1, 'r', 0)).toBe(true);
    expect(replayed.outcome(`t${h}`)).toMatchObject({ status: 'completed', attempts: 1, result: 'r' });
    expect(replayed.complete(h + 1, 2, 'r', 0)).toBe(false);
  });
});

describe('stored definitions', () => {
  const defs: TaskDef[] = [
    { id: 'a', type: 'work', priority: 5, dependsOn: [], capability: 'c', payload: 1 },
    { id: 'b', type: 'work', priority: 10, dependsOn: ['a'], target: 'w', payload: null, retry: false, timeoutMs: 50 },
    { id: 'c', type: 'work', priority: 1, dependsOn: ['a', 'b'], capability: 'c', retry: { maxAttempts: 2, baseMs: 1, capMs: 2 } },
    { id: 'd', type: 'work', priority: 3, dependsOn: [], capability: 'c', payload: undefined, timeoutMs: 7 },
  ].map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as TaskDef);

  it('are tuples that give back the same definitions, a null payload and an absent one apart', () => {
    const back = unpackDefs(packDefs(defs));
    expect(back).toEqual(defs);
    expect('payload' in back[1]).toBe(true);
    expect('payload' in back[2]).toBe(false);
    // Smaller than the objects they were (keys were most of the bytes).
    const many = Array.from({ length: 2000 }, (_, i) => ({ id: `t${i}`, type: 'work', priority: 5, dependsOn: [], capability: 'noop', payload: i }));
    const asTuples = packDefs(many).reduce((n, c) => n + c.length, 0);
    expect(asTuples).toBeLessThan(pack(many).length / 2);
  });

  it('of a record of an older version (objects) are read as they were', () => {
    const options = graphOptions({ tasks: [], retry: false, events: false }, true);
    const record: GraphRecord = { ...newRecord({ graphId: 'old', options, events: false }), defs: [packed(defs)], runs: [], created: true };
    record.runs = [packed(defs.map(() => [1, 0, 0]))];
    const g = restoreGraph(record).graph;
    expect(g.nodes.map((n) => n.def)).toEqual(defs);
  });
});
