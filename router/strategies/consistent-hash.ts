// Consistent hashing by message key, for sticky routing (one conversation, one agent while it lives). Default:
// rendezvous (highest random weight) hashing, exact and stateless: each candidate scores hash(key, id), the top
// score wins, so adding one candidate to n moves ~1/(n+1) of the keys (only to it) and removing one moves only
// its keys. That is O(n) per choice; for large steady pools `method: 'ring'` looks the key up on a hash ring
// (O(1) expected, through a prefix table over the sorted points) built once per candidate array. A message
// without a key goes to the least loaded.
import type { Candidate, Strategy } from '../types.ts';
import { combine, hash32 } from './hash.ts';
import { pickLeastLoaded } from './least-loaded.ts';
import { preferBest } from './prefer.ts';

export interface ConsistentHashOptions {
  /** 'rendezvous' (default; O(n), exact) or 'ring' (O(1) expected lookup, O(n log n) build per new candidate array). */
  readonly method?: 'rendezvous' | 'ring';
  /** Weight the share of keys by `candidate.weight` (default false: adaptive weights would move sticky keys). */
  readonly weighted?: boolean;
  /** Ring points per candidate (per unit of weight when weighted); default 64. */
  readonly vnodes?: number;
}

export function consistentHash(options: ConsistentHashOptions = {}): Strategy {
  const weighted = options.weighted ?? false;
  if ((options.method ?? 'rendezvous') === 'rendezvous') {
    return (all, message, state) => {
      const candidates = preferBest(all);
      if (message.key === undefined) return pickLeastLoaded(candidates, state.random);
      return rendezvous(candidates, message.key, weighted);
    };
  }
  const vnodes = options.vnodes ?? 64;
  const rings = new WeakMap<readonly Candidate[], Ring>();
  return (all, message, state) => {
    const candidates = preferBest(all);
    if (message.key === undefined) return pickLeastLoaded(candidates, state.random);
    let ring = rings.get(candidates);
    if (ring === undefined) {
      ring = buildRing(candidates, weighted, vnodes);
      rings.set(candidates, ring);
    }
    return candidates[ring.lookup(hash32(message.key))];
  };
}

/** Arrays at least this long keep their ids' hashes, so a choice costs one mix per candidate, not one string hash. */
const MEMO_FROM = 32;
const idHashes = new WeakMap<readonly Candidate[], Uint32Array>();

function hashesOf(candidates: readonly Candidate[]): Uint32Array | undefined {
  if (candidates.length < MEMO_FROM) return undefined;
  let hs = idHashes.get(candidates);
  if (hs === undefined) {
    hs = Uint32Array.from(candidates, (c) => hash32(c.id));
    idHashes.set(candidates, hs);
  }
  return hs;
}

/** The rendezvous winner for `key` (weighted: score = -w / ln(u), the logarithmic method). */
export function rendezvous(candidates: readonly Candidate[], key: string, weighted: boolean): Candidate | undefined {
  const kh = hash32(key);
  const hs = hashesOf(candidates);
  let best: Candidate | undefined;
  let bestScore = -Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const h = combine(kh, hs === undefined ? hash32(c.id) : hs[i]);
    const score = weighted ? weightedScore(h, c.weight) : h;
    if (score > bestScore || (score === bestScore && best !== undefined && c.id < best.id)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

function weightedScore(h: number, weight: number): number {
  if (!(weight > 0) || !Number.isFinite(weight)) return -Infinity;
  const u = (h + 0.5) / 4294967296;
  return -weight / Math.log(u);
}

interface Ring {
  lookup(h: number): number;
}

/**
 * Sorted ring points, each packed as hash * 2^21 + owner index into one float64 so one numeric sort orders both.
 * A table of where each top-16-bit prefix starts narrows the search to a few points: O(1) expected lookups with
 * two or three cache misses, rather than a binary search over the whole ring.
 */
function buildRing(candidates: readonly Candidate[], weighted: boolean, vnodes: number): Ring {
  const counts = candidates.map((c) => (weighted ? Math.max(1, Math.round(vnodes * (c.weight > 0 ? c.weight : 0))) : vnodes));
  const total = counts.reduce((a, b) => a + b, 0);
  const packed = new Float64Array(total);
  let k = 0;
  for (let i = 0; i < candidates.length; i++) {
    const idHash = hash32(candidates[i].id);
    for (let v = 0; v < counts[i]; v++) packed[k++] = combine(idHash, v) * 2097152 + i;
  }
  packed.sort();
  const hashes = new Uint32Array(total);
  const owners = new Int32Array(total);
  for (let p = 0; p < total; p++) {
    owners[p] = packed[p] % 2097152;
    hashes[p] = (packed[p] - owners[p]) / 2097152;
  }
  const starts = new Uint32Array(65537);
  for (let p = 0, b = 0; b <= 65536; b++) {
    while (p < total && hashes[p] >>> 16 < b) p++;
    starts[b] = p;
  }
  return {
    lookup(h: number): number {
      const b = h >>> 16;
      let lo = starts[b];
      let hi = starts[b + 1];
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (hashes[mid] < h) lo = mid + 1;
        else hi = mid;
      }
      return owners[lo === total ? 0 : lo];
    },
  };
}
