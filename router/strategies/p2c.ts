// Power of two choices on peak-EWMA cost, the Finagle/Linkerd balancer: cost = latency x (in flight + 1), so a
// slow actor and a busy actor both look expensive. Two random candidates, keep the cheaper: O(1) per choice. In
// small pools two random draws pick the busier of two a quarter of the time, so up to `scanUpTo` candidates
// (3, as Envoy) are all scanned instead.
import type { Candidate, Strategy } from '../types.ts';
import { loadOf, preferBest } from './prefer.ts';

export interface P2cOptions {
  /** Scan every candidate when there are at most this many (default 3). */
  readonly scanUpTo?: number;
}

/** The peak-EWMA cost a candidate is judged by (lower is better). */
export function costOf(c: Candidate): number {
  return c.latencyMs * (c.inFlight + 1);
}

/** Cheaper by cost; on equal cost (a fresh pool, decayed latencies) the less loaded. */
function better(a: Candidate, b: Candidate): boolean {
  const ca = costOf(a);
  const cb = costOf(b);
  return ca < cb || (ca === cb && loadOf(a) < loadOf(b));
}

export function p2c(options: P2cOptions = {}): Strategy {
  const scanUpTo = options.scanUpTo ?? 3;
  return (all, _message, state) => {
    const candidates = preferBest(all);
    const n = candidates.length;
    if (n <= scanUpTo) return scan(candidates, state.random);
    const i = Math.min(n - 1, Math.floor(state.random() * n));
    let j = Math.min(n - 2, Math.floor(state.random() * (n - 1)));
    if (j >= i) j++;
    const a = candidates[i];
    const b = candidates[j];
    return better(b, a) ? b : a;
  };
}

/** The cheapest of all, ties at random. */
function scan(candidates: readonly Candidate[], random: () => number): Candidate | undefined {
  let best = candidates[0];
  let ties = 1;
  for (let k = 1; k < candidates.length; k++) {
    const c = candidates[k];
    if (better(c, best)) {
      best = c;
      ties = 1;
    } else if (!better(best, c) && random() * ++ties < 1) {
      best = c;
    }
  }
  return best;
}
