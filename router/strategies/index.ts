// Interim (replaced by the router-policy branch): the two strategies the plumbing needs to run.
import type { Candidate, Strategy } from '../types.ts';

const leastLoaded: Strategy = (cs, _m, s) => {
  let best: Candidate[] = [];
  let min = Infinity;
  for (const c of cs) {
    const load = c.queued + c.inFlight;
    if (load < min) {
      min = load;
      best = [c];
    } else if (load === min) best.push(c);
  }
  return best[Math.floor(s.random() * best.length)];
};

export function resolveStrategy(name: string | Strategy): Strategy {
  if (typeof name === 'function') return name;
  if (name === 'least-loaded' || name === 'consistent-hash') return leastLoaded;
  throw new Error(`unknown strategy ${name}`);
}
