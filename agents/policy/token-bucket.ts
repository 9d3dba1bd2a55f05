/**
 * A token bucket with continuous refill (the shape of the Messages API's own limits: a per-minute limit refills
 * steadily, not in one step at the minute). Pure: every call takes `now` (ms).
 *
 * Invariant (tested as a property): what `tryTake` grants over any window of length W never exceeds
 * capacity + ratePerMs * W. `debit` may take the level below zero (usage found to be larger than estimated):
 * later grants then wait for the debt to refill.
 */
export class TokenBucket {
  private level: number;
  private at: number;

  constructor(
    readonly capacity: number,
    readonly ratePerMs: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }

  /** A per-minute limit: capacity = limit, refilled at limit per 60 s. */
  static perMinute(limit: number, now: number): TokenBucket {
    return new TokenBucket(limit, limit / 60_000, now);
  }

  available(now: number): number {
    this.refill(now);
    return this.level;
  }

  /** Takes n if they are there (n above the capacity is capped to the capacity, or it could never pass). */
  tryTake(n: number, now: number): boolean {
    this.refill(now);
    const need = Math.min(n, this.capacity);
    if (this.level < need) return false;
    this.level -= need;
    return true;
  }

  /** Milliseconds until tryTake(n) would succeed (0 if it would now). */
  waitFor(n: number, now: number): number {
    this.refill(now);
    const need = Math.min(n, this.capacity);
    if (this.level >= need) return 0;
    return Math.ceil((need - this.level) / this.ratePerMs);
  }

  /** Takes n unconditionally (may go below zero): a correction once the real usage is known. */
  debit(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }

  /** Gives back n (an estimate that was too high), never above the capacity. */
  credit(n: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level + n);
  }

  /** The server says only `remaining` are left: never believe we have more than that. */
  clampTo(remaining: number, now: number): void {
    this.refill(now);
    if (remaining < this.level) this.level = remaining;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.level = Math.min(this.capacity, this.level + (now - this.at) * this.ratePerMs);
      this.at = now;
    }
  }
}
