import type { Clock } from './clock.ts';

/**
 * A FIFO of deadlines that share one timeout: they are added in deadline order, so a ring of (at, key) pairs in
 * flat arrays is enough (no heap, no object per entry).
 */
class Lane {
  at: number[] = [];
  keys: number[] = [];
  head = 0;

  constructor(readonly ms: number) {}

  /** The earliest deadline held (the lane must not be empty). */
  get first(): number {
    return this.at[this.head];
  }

  get size(): number {
    return this.keys.length - this.head;
  }

  push(at: number, key: number): void {
    this.at.push(at);
    this.keys.push(key);
  }

  /** Drop consumed entries once they are most of the arrays. */
  compact(): void {
    if (this.head < 1024 || this.head * 2 < this.keys.length) return;
    this.at = this.at.slice(this.head);
    this.keys = this.keys.slice(this.head);
    this.head = 0;
  }
}

export interface DeadlineOptions {
  /** Is this key still waiting? Settled keys are never expired, and are swept away. */
  isPending?: (key: number) => boolean;
  /** How many keys are still waiting. */
  pendingCount?: () => number;
  /** Consider a sweep every this many adds (default 4096). */
  sweepEvery?: number;
}

/**
 * Ask timeouts. One armed clock timer for the earliest deadline instead of one timer per ask. Asks are grouped
 * by their timeout (almost all use the default), and within a group deadlines come in the order asks were made,
 * so adding one is an array push; the groups sit in a heap on their earliest deadline. A settled ask is skipped when its deadline comes up; when settled entries pile
 * up (many fast asks with long timeouts) a lane is swept with `isPending`, so memory follows the asks still
 * pending rather than the ask rate times the timeout.
 */
export class Deadlines {
  private lanes = new Map<number, Lane>();
  /** The non-empty lanes, as a binary min-heap on their first deadline: a fire costs log(lanes), not lanes. */
  private heap: Lane[] = [];
  private armedAt = Infinity;
  private handle: unknown;
  private added = 0;

  private readonly isPending: (key: number) => boolean;
  private readonly pendingCount: () => number;
  private readonly sweepEvery: number;

  constructor(private readonly clock: Clock, private readonly expire: (key: number) => void, options: DeadlineOptions = {}) {
    this.isPending = options.isPending ?? (() => true);
    this.pendingCount = options.pendingCount ?? (() => 0);
    this.sweepEvery = options.sweepEvery ?? 4096;
  }

  add(key: number, ms: number): void {
    let lane = this.lanes.get(ms);
    if (lane === undefined) this.lanes.set(ms, (lane = new Lane(ms)));
    const empty = lane.size === 0;
    const previous = empty ? -Infinity : lane.at[lane.at.length - 1];
    const at = Math.max(this.clock.now() + ms, previous); // a clock that steps back must not break the order
    lane.push(at, key);
    if (empty) this.heapPush(lane);
    if (at < this.armedAt) this.arm(at);
    if (++this.added % this.sweepEvery === 0) this.sweep();
  }

  /** Entries held (pending and settled-but-not-yet-swept): for tests and stats. */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.size;
    return n;
  }

  clear(): void {
    this.lanes.clear();
    this.heap = [];
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  /** Drop settled entries when they outnumber the pending asks by far. */
  private sweep(): void {
    if (this.size < 4 * this.pendingCount() + this.sweepEvery) return;
    this.heap = [];
    for (const [ms, lane] of this.lanes) {
      const at: number[] = [];
      const keys: number[] = [];
      for (let i = lane.head; i < lane.keys.length; i++) {
        if (!this.isPending(lane.keys[i])) continue;
        at.push(lane.at[i]);
        keys.push(lane.keys[i]);
      }
      Object.assign(lane, { at, keys, head: 0 });
      if (keys.length === 0) this.lanes.delete(ms);
      else this.heapPush(lane);
    }
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
    while (this.heap.length > 0 && this.heap[0].first <= now) {
      const lane = this.heap[0];
      while (lane.size > 0 && lane.first <= now) {
        const key = lane.keys[lane.head++];
        if (this.isPending(key)) this.expire(key);
      }
      // Settled entries next in line are dropped now, not each at its deadline: after one timeout's worth of asks
      // answered at once, the timer was re-armed for (and fired at) every one of them, a clock timer per ask.
      while (lane.size > 0 && !this.isPending(lane.keys[lane.head])) lane.head++;
      if (lane.size === 0) {
        this.lanes.delete(lane.ms);
        this.heapPopTop();
      } else {
        lane.compact();
        this.siftDown(0);
      }
    }
    if (this.heap.length > 0) this.arm(this.heap[0].first);
  }

  private heapPush(lane: Lane): void {
    const heap = this.heap;
    heap.push(lane);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].first <= heap[i].first) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  }

  private heapPopTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].first < heap[m].first) m = l;
      if (r < heap.length && heap[r].first < heap[m].first) m = r;
      if (m === i) return;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  }
}
