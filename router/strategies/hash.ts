// A fast non-cryptographic 32-bit hash for consistent hashing: FNV-1a over UTF-16 code units, then murmur3's
// finaliser, because FNV-1a alone avalanches poorly in its high bits and rendezvous hashing compares whole words.

/** FNV-1a (32-bit) of a string, finalised with murmur3's fmix32. Unsigned. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. Unsigned. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the pair (key, id) from their hashes: independent-looking across ids for one key. Unsigned. */
export function combine(keyHash: number, idHash: number): number {
  return fmix32(Math.imul(keyHash ^ 0x9e3779b9, 0xcc9e2d51) ^ idHash);
}
