// The critical path and an ETA from observed durations. A task's duration is what its last attempt took once it
// completed; tasks not done yet are estimated by the mean of completed tasks of the same type and capability, else
// of all completed tasks. Nothing completed yet: nothing to estimate from (remainingMs undefined).
import { TERMINAL, type CriticalPath } from '../types.ts';
import type { Node, TaskGraph } from './graph.ts';

function observed(n: Node): number | undefined {
  const { run } = n;
  return run.status === 'completed' && run.startedAt !== undefined && run.endedAt !== undefined ? run.endedAt - run.startedAt : undefined;
}

/** Topological order of the tasks (dependencies first); tasks on a cycle kept by the 'report' policy are left out. */
export function topoOrder(nodes: readonly Node[]): number[] {
  const indeg = nodes.map((n) => n.deps.length);
  const order: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (indeg[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) for (const t of nodes[order[k]].dependents) if (--indeg[t] === 0) order.push(t);
  return order;
}

export function criticalPath(graph: TaskGraph, now: number, concurrency = graph.opts.concurrency): CriticalPath {
  const nodes = graph.nodes;
  const byKind = new Map<string, { sum: number; n: number }>();
  let sum = 0, count = 0;
  for (const n of nodes) {
    const d = observed(n);
    if (d === undefined) continue;
    const k = `${n.def.capability ?? n.def.target}\0${n.def.type}`;
    const s = byKind.get(k) ?? { sum: 0, n: 0 };
    s.sum += d;
    s.n++;
    byKind.set(k, s);
    sum += d;
    count++;
  }
  const estimate = (n: Node): number => {
    const d = observed(n);
    if (d !== undefined) return d;
    const s = byKind.get(`${n.def.capability ?? n.def.target}\0${n.def.type}`);
    return s ? s.sum / s.n : count > 0 ? sum / count : 0;
  };
  const order = topoOrder(nodes);
  // Whole graph: the longest chain of (observed or estimated) durations.
  const len = new Float64Array(nodes.length);
  const prev = new Int32Array(nodes.length).fill(-1);
  // What is left: tasks not ended, a running one for what its estimate leaves of it.
  const left = new Float64Array(nodes.length);
  let work = 0;
  let end = -1, longestLeft = 0;
  for (const i of order) {
    const n = nodes[i];
    let best = 0, bestLeft = 0;
    for (const d of n.deps) {
      if (prev[i] === -1 || len[d] > best) (best = len[d]), (prev[i] = d);
      bestLeft = Math.max(bestLeft, left[d]);
    }
    const e = n.run.status === 'cancelled' && n.run.reason?.code === 'deadlock' ? 0 : estimate(n);
    len[i] = best + e;
    // Ties go to the later task in topological order: a task of zero length (observed within one millisecond)
    // still ends the chain it extends rather than leaving it at its dependency.
    if (end === -1 || len[i] >= len[end]) end = i;
    let mine = 0;
    if (!TERMINAL.has(n.run.status)) mine = n.run.status === 'running' ? Math.max(0, e - (now - (n.run.startedAt ?? now))) : e;
    work += mine;
    left[i] = TERMINAL.has(n.run.status) ? 0 : bestLeft + mine;
    longestLeft = Math.max(longestLeft, left[i]);
  }
  const path: string[] = [];
  for (let i = end; i !== -1; i = prev[i]) path.unshift(nodes[i].def.id);
  const result: CriticalPath = { path, ms: end === -1 ? 0 : len[end] };
  // A lower bound either way: the longest chain left, or the work left spread over the concurrency allowed.
  if (count > 0) result.remainingMs = Math.max(longestLeft, work / Math.max(1, Math.min(concurrency, nodes.length)));
  return result;
}
