import type { Clock } from './clock.ts';

/**
 * Ask timeouts. One armed clock timer for the earliest deadline instead of one timer per ask: an ask costs a heap
 * push, and a settled ask is simply skipped when its deadline comes up (lazy cancellation).
 */
export class Deadlines {
  private heap: { at: number; key: number }[] = [];
  private armedAt = Infinity;
  private handle: unknown;

  constructor(private readonly clock: Clock, private readonly expire: (key: number) => void) {}

  add(key: number, ms: number): void {
    const at = this.clock.now() + ms;
    const heap = this.heap;
    heap.push({ at, key });
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].at <= heap[i].at) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
    if (at < this.armedAt) this.arm(at);
  }

  clear(): void {
    this.heap = [];
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  private arm(at: number): void {
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.armedAt = at;
    this.handle = this.clock.setTimer(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0].at <= now) this.expire(this.pop().key);
    if (this.heap.length > 0) this.arm(this.heap[0].at);
  }

  private pop(): { at: number; key: number } {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && heap[l].at < heap[m].at) m = l;
        if (r < heap.length && heap[r].at < heap[m].at) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  }
}
