/**
 * Sums per-thread counters into one series per label set, and keeps the sum monotonic: a thread replaced after a
 * loss starts its counters from zero (what the lost one counted is carried), and a thread that does not answer one
 * scrape keeps its last values. Pure: fed the samples of each scrape.
 */
export class MonotonicSum {
  private readonly seen = new Map<string, { node: number; series: string; last: number; carry: number }>();
  private readonly epochs = new Map<number, number>();

  /**
   * samples: [thread, series key, value]. `epochs`: per thread, what identifies its incarnation (a replacement has
   * another): every counter of a replaced thread starts again from zero, even one that reads as high as before (a
   * fine-grained series, one message type, can), so a new epoch carries them all. Returns the total per series key.
   */
  sum(samples: Iterable<readonly [number, string, number]>, epochs?: ReadonlyMap<number, number>): Map<string, number> {
    for (const [node, epoch] of epochs ?? []) {
      const known = this.epochs.get(node);
      this.epochs.set(node, epoch);
      if (known === undefined || known === epoch) continue;
      for (const s of this.seen.values()) {
        if (s.node !== node) continue;
        s.carry += s.last;
        s.last = 0;
      }
    }
    for (const [node, series, value] of samples) {
      const key = `${node}\u0000${series}`;
      const s = this.seen.get(key);
      if (s === undefined) this.seen.set(key, { node, series, last: value, carry: 0 });
      else {
        if (value < s.last) s.carry += s.last; // the thread was replaced: its counters started again from zero
        s.last = value;
      }
    }
    const totals = new Map<string, number>();
    for (const [, s] of this.seen) totals.set(s.series, (totals.get(s.series) ?? 0) + s.last + s.carry);
    return totals;
  }
}
