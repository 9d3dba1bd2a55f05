// Journal segments: all messages journaled for one actor in one group commit are stored as ONE LMDB value, keyed
// [actorId, seq of its first message]. A value is a run of frames, each a little-endian u32 byte length then that
// many bytes of one msgpack-encoded message. Messages are encoded when they are sent (so the bytes are the value
// at that moment) and copied into their segment at once: a memcpy, which cannot fail half-way.
//
// Why: one put and one remove per actor per commit instead of one each per message. With 100 actors sharing a
// commit of 1000 messages that is 10x fewer LMDB operations (bench/persistence/store.ts).

/** A segment stops taking messages past this many bytes; the next message starts a new one (same commit). */
export const MAX_SEGMENT_BYTES = 1 << 20;

/**
 * One segment value being built: each message's bytes are framed and copied in as it is journaled, straight
 * from the encoder's buffer, so a journaled message leaves no object behind it until the commit.
 */
export class SegmentBuilder {
  #buf: Buffer;
  #length = 0;

  constructor(capacity = 512) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes so far, frame headers included. */
  get length(): number {
    return this.#length;
  }

  /** Append bytes [start, end) of `src` as one frame. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    const need = this.#length + 4 + n;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.#buf.length));
      this.#buf.copy(grown, 0, 0, this.#length);
      this.#buf = grown;
    }
    this.#buf.writeUInt32LE(n, this.#length);
    if (Buffer.isBuffer(src)) src.copy(this.#buf, this.#length + 4, start, end); // no view object
    else this.#buf.set(src.subarray(start, end), this.#length + 4);
    this.#length = need;
  }

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }
}

/** The segment value holding `parts` as frames (tests and tools; the store builds segments as it goes). */
export function frameSegment(parts: readonly Uint8Array[]): Uint8Array {
  const builder = new SegmentBuilder();
  for (const part of parts) builder.append(part);
  return builder.bytes();
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
