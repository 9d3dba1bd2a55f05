// Least loaded: the candidate with the fewest queued plus in-flight messages (an idle one first). Ties are broken
// at random (reservoir sampling over the tied ones), or a pool of idle actors would send everything to the first.
import type { Candidate, Strategy } from '../types.ts';
import { loadOf, preferBest } from './prefer.ts';

export const leastLoaded: Strategy = (all, _message, state) => pickLeastLoaded(preferBest(all), state.random);

/** O(n) scan; `random` is drawn only on ties. */
export function pickLeastLoaded(candidates: readonly Candidate[], random: () => number): Candidate | undefined {
  let best: Candidate | undefined;
  let bestLoad = Infinity;
  let ties = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const load = loadOf(c);
    if (load < bestLoad) {
      best = c;
      bestLoad = load;
      ties = 1;
    } else if (load === bestLoad && random() * ++ties < 1) {
      best = c;
    }
  }
  return best;
}
