/**
 * Sums per-thread counters into one series per label set, and keeps the sum monotonic: a thread replaced after a
 * loss starts its counters from zero (what the lost one counted is carried), and a thread that does not answer one
 * scrape keeps its last values. Pure: fed the samples of each scrape.
 */
export class MonotonicSum {
  private readonly seen = new Map<string, { series: string; last: number; carry: number }>();

  /** samples: [thread, series key, value]. Returns the total per series key. */
  sum(samples: Iterable<readonly [number, string, number]>): Map<string, number> {
    for (const [node, series, value] of samples) {
      const key = `${node}\u0000${series}`;
      const s = this.seen.get(key);
      if (s === undefined) this.seen.set(key, { series, last: value, carry: 0 });
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
