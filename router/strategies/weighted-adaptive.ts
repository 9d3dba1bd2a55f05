// Weighted adaptive: a random choice with probability proportional to the candidate's adaptive weight (from
// router/policy/adaptive.ts: decaying success rate and latency) divided by a penalty for its current load, so
// past performance and present backlog both steer traffic. O(n) per choice.
import type { Candidate, Strategy } from '../types.ts';
import { loadOf, preferBest } from './prefer.ts';

export interface WeightedAdaptiveOptions {
  /** Effective weight = weight / (1 + loadPenalty x (queued + inFlight)); 0 ignores load (default 1). */
  readonly loadPenalty?: number;
}

export function weightedAdaptive(options: WeightedAdaptiveOptions = {}): Strategy {
  const loadPenalty = options.loadPenalty ?? 1;
  const effective = (c: Candidate) => {
    const w = Number.isFinite(c.weight) && c.weight > 0 ? c.weight : 0;
    return w / (1 + loadPenalty * loadOf(c));
  };
  return (all, _message, state) => {
    const candidates = preferBest(all);
    let total = 0;
    for (let i = 0; i < candidates.length; i++) total += effective(candidates[i]);
    // No usable weight at all: fall back to uniform rather than always the first.
    if (!(total > 0)) return candidates[Math.min(candidates.length - 1, Math.floor(state.random() * candidates.length))];
    let r = state.random() * total;
    for (let i = 0; i < candidates.length; i++) {
      r -= effective(candidates[i]);
      if (r < 0) return candidates[i];
    }
    // Rounding left r at or just above 0: the last candidate with a weight.
    for (let i = candidates.length - 1; i >= 0; i--) if (effective(candidates[i]) > 0) return candidates[i];
    return candidates[candidates.length - 1];
  };
}
