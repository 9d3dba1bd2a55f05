/**
 * The ready queue of one capability: a binary max-heap on (priority, then lowest sequence first), so the highest
 * priority dequeues first and ties go in the order tasks became ready. O(log n) push and pop. Entries are
 * invalidated lazily: the owner says whether an entry is still live (`valid`) and dead ones are dropped when they
 * reach the top, so a task leaving the ready set (cancelled, blocked again) costs nothing here.
 */
export interface QueueEntry {
  readonly priority: number;
  readonly seq: number;
  readonly index: number;
}

export class ReadyHeap {
  private readonly items: QueueEntry[] = [];

  constructor(private readonly valid: (e: QueueEntry) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(e: QueueEntry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, a[parent])) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = e;
  }

  /** The best live entry, without removing it. */
  peek(): QueueEntry | undefined {
    while (this.items.length > 0 && !this.valid(this.items[0])) this.removeTop();
    return this.items[0];
  }

  pop(): QueueEntry | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  private removeTop(): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) return;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r], a[l]) ? r : l;
      if (!before(a[c], last)) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = last;
  }
}

/** Whether `a` dequeues before `b`. */
export function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
