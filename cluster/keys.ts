/**
 * Actor ids as KV keys. A key allows [-/_=.a-zA-Z0-9]; ids are any string of up to 256 characters. Every other
 * character (and '=', '.', '/') becomes '=' and its code point in hex, then '=' again: reversible, and the ids
 * nanoid makes (A-Za-z0-9_-) are stored as they are.
 */
export function idToKey(id: string): string {
  let out = '';
  for (const ch of id) out += /[A-Za-z0-9_-]/.test(ch) ? ch : `=${ch.codePointAt(0)!.toString(16)}=`;
  return out;
}

export function keyToId(key: string): string {
  return key.replace(/=([0-9a-f]+)=/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}
