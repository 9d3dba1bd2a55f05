import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidTokenError } from './errors.ts';

/** A fresh admin token: 32 random bytes, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Write the token so that only the user can read it (mode 0600). Written to a temporary file created with that mode
 * and renamed over the target: a file that existed with wider permissions is replaced, never reused.
 */
export function writeTokenFile(file: string, token: string): void {
  const tmp = join(dirname(file), `.${process.pid}.${randomBytes(6).toString('hex')}.token.tmp`);
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // the umask cannot widen it, but make the intent explicit
  renameSync(tmp, file);
}

export function validateToken(token: unknown): string {
  if (typeof token !== 'string' || token.length < 16 || /\s/.test(token)) {
    throw new InvalidTokenError('the admin token must be a string of at least 16 characters without whitespace');
  }
  return token;
}

/**
 * Compares a presented bearer token with the expected one in constant time: both are hashed first, so the
 * comparison runs over equal-length digests whatever was presented (timingSafeEqual needs equal lengths).
 */
export function tokenChecker(expected: string): (presented: string | undefined) => boolean {
  const want = createHash('sha256').update(expected).digest();
  return (presented) => {
    if (presented === undefined) return false;
    const got = createHash('sha256').update(presented).digest();
    return timingSafeEqual(want, got);
  };
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
