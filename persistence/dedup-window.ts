// DedupWindow: how many sender-given message ids one actor remembers, to recognise a sender's retry. Pure policy:
// the ids themselves live in LMDB (persistence/store.ts, `messageIds`), not in memory; the actor counts them and,
// when they exceed the window by a slack, forgets the oldest down to the window. The slack amortises the scan
// that finds the oldest (one scan per window/4 new ids), so at least the last `size` ids are always remembered.

export class DedupWindow {
  constructor(readonly size: number) {}

  /** Extra ids tolerated before an eviction. */
  get slack(): number {
    return Math.floor(this.size / 4);
  }

  /** With `count` ids remembered, is it time to forget some? */
  due(count: number): boolean {
    return count > this.size + this.slack;
  }

  /** Of the remembered ids, oldest first, those to forget: all but the newest `size`. */
  evict<T>(oldestFirst: readonly T[]): T[] {
    return oldestFirst.slice(0, Math.max(0, oldestFirst.length - this.size));
  }
}
