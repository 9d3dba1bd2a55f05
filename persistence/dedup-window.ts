// DedupWindow: the message ids one actor remembers, to recognise a sender's retry. Pure: the caller persists
// what it is told to remember and to forget. A Set keeps insertion order, so the oldest id is its first entry.

const NONE: readonly string[] = Object.freeze([]);

export class DedupWindow {
  readonly #ids = new Set<string>();

  constructor(readonly size: number) {}

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get count(): number {
    return this.#ids.size;
  }

  /** Remember `id` as the newest; returns the ids that fell out of the window (oldest first). */
  remember(id: string): readonly string[] {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size <= this.size) return NONE;
    const evicted: string[] = [];
    for (const oldest of this.#ids) {
      if (this.#ids.size <= this.size) break;
      this.#ids.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  /** Forget an id that was never stored after all (its write failed). */
  drop(id: string): void {
    this.#ids.delete(id);
  }

  /** Take back ids evicted by a remember() whose write failed: they are the oldest again. */
  restore(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const current = [...this.#ids];
    this.#ids.clear();
    for (const id of [...ids, ...current]) this.#ids.add(id);
  }
}
