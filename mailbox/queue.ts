/**
 * A growable ring buffer: O(1) push/shift without the element moves of Array#shift, and no allocation per message
 * once warm. Capacity starts tiny because most actors are idle most of the time (heap per idle actor matters).
 */
export class RingQueue<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 4) {
    this.buf = new Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) % this.buf.length] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  /** Remove and return every item, oldest first. */
  drain(): T[] {
    const out: T[] = new Array(this.count);
    for (let i = 0; i < out.length; i++) out[i] = this.shift() as T;
    return out;
  }

  private grow(): void {
    const old = this.buf;
    const next: (T | undefined)[] = new Array(Math.max(4, old.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % old.length];
    this.buf = next;
    this.head = 0;
  }
}
