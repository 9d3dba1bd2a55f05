// Journal segments: all messages journaled for one actor in one group commit are stored as ONE LMDB value, keyed
// [actorId, seq of its first message]. A value is a run of frames, each a little-endian u32 byte length then that
// many bytes of one msgpack-encoded message. Messages are encoded when they are sent (so the bytes are the value
// at that moment) and framed together when the commit runs: a memcpy, which cannot fail half-way.
//
// Why: one put and one remove per actor per commit instead of one each per message. With 100 actors sharing a
// commit of 1000 messages that is 10x fewer LMDB operations (bench/persistence/store.ts).

/** A segment stops taking messages past this many bytes; the next message starts a new one (same commit). */
export const MAX_SEGMENT_BYTES = 1 << 20;

export function frameSegment(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = Buffer.allocUnsafe(bytes + 4 * parts.length);
  let at = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, at);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** The frames of a segment value; throws RangeError when the framing is broken. */
export function unframeSegment(value: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new RangeError(`truncated frame header at byte ${at}`);
    const length = buf.readUInt32LE(at);
    if (at + 4 + length > buf.length) throw new RangeError(`frame at byte ${at} runs past the end`);
    parts.push(buf.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return parts;
}
