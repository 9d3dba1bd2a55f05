// Key helpers: LMDB keys here are ordered-binary arrays [actorId, seq | messageId].
import type { Database, Key } from 'lmdb';
import { InvalidPersistenceOptionError, InvalidStoreKeyError } from './errors.ts';

const MAX_KEY_BYTES = 900; // per key part: LMDB keys are at most 1978 bytes and [actorId, messageId] holds two

/** All keys of one actor in a db keyed by [actorId, ...]; collected up front because callers remove them. */
export function keysOf(db: Database<any, Key>, actorId: string): Key[] {
  const keys: Key[] = [];
  // [actorId] is a prefix of, so sorts before, every [actorId, x]; the first key with another head ends the run.
  for (const key of db.getKeys({ start: [actorId] })) {
    if (!Array.isArray(key) || key[0] !== actorId) break;
    keys.push(key);
  }
  return keys;
}

export function checkPart(what: string, value: unknown): void {
  // ordered-binary uses NUL as the separator inside array keys, so a NUL in a key part would break ranges.
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.includes('\0') ||
    (value.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(value) > MAX_KEY_BYTES)
  ) {
    const limit = `${MAX_KEY_BYTES} UTF-8 bytes`;
    throw new InvalidStoreKeyError(`${what} must be a non-empty string without NUL, at most ${limit}`);
  }
}

export function checkSeq(seq: unknown, min: number): void {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < min) {
    throw new InvalidStoreKeyError(`seq must be an integer >= ${min}, got ${String(seq)}`);
  }
}

export function positiveInt(name: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidPersistenceOptionError(`${name} must be an integer >= 1, got ${String(n)}`);
  }
  return n;
}
