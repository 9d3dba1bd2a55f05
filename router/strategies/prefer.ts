// A route may prefer capabilities (scored, not required): every built-in strategy first narrows the candidates to
// those with the best `preferred` score, then chooses among them. Orleans keeps required and preferred placement
// filters apart in the same way.
import type { Candidate } from '../types.ts';

/** Arrays at least this long have their narrowed form remembered, so a steady pool pays the scan once. */
const MEMO_FROM = 32;
const memo = new WeakMap<readonly Candidate[], readonly Candidate[]>();

/**
 * The candidates with the highest `preferred` score (the input itself when they all score the same, the common
 * case). Treats its input as immutable: the plumbing hands a new array when the candidate set changes, and for
 * large arrays the answer is remembered per array, which keeps O(1) strategies O(1) on a steady pool.
 */
export function preferBest(candidates: readonly Candidate[]): readonly Candidate[] {
  if (candidates.length < 2) return candidates;
  if (candidates.length < MEMO_FROM) return narrow(candidates);
  let hit = memo.get(candidates);
  if (hit === undefined) {
    hit = narrow(candidates);
    memo.set(candidates, hit);
  }
  return hit;
}

function narrow(candidates: readonly Candidate[]): readonly Candidate[] {
  let best = candidates[0].preferred;
  let mixed = false;
  for (let i = 1; i < candidates.length; i++) {
    const p = candidates[i].preferred;
    if (p !== best) {
      mixed = true;
      if (p > best) best = p;
    }
  }
  return mixed ? candidates.filter((c) => c.preferred === best) : candidates;
}

/** Mailbox depth plus this thread's outstanding asks and sends: what "least loaded" minimises. */
export function loadOf(c: Candidate): number {
  return c.queued + c.inFlight;
}
