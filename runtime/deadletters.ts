import type { DeadLetter, DeadLetterCounts, DeadLetterReason } from './stats.ts';

/** Undeliverable messages: counted by reason, the most recent kept for inspection, listeners told. */
export class DeadLetters {
  readonly counts: DeadLetterCounts = {};
  private recent: DeadLetter[] = [];
  private listeners = new Set<(letter: DeadLetter) => void>();

  constructor(private readonly node: number, private readonly keep = 100) {}

  record(to: string, type: string, from: string, reason: DeadLetterReason, detail?: string): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    const letter: DeadLetter = { to, type, from, reason, node: this.node, at: Date.now() };
    if (detail !== undefined) letter.detail = detail;
    if (this.recent.length >= this.keep) this.recent.shift();
    this.recent.push(letter);
    for (const l of this.listeners) l(letter);
  }

  latest(): DeadLetter[] {
    return this.recent.slice();
  }

  listen(fn: (letter: DeadLetter) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
