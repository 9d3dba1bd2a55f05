/**
 * A seeded random source (SplitMix32): the only randomness in a simulation. Every choice the scheduler makes, every
 * drawn delay and the runtime's backoff jitter come from here, so one seed gives one run.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed | 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** An independent stream for one purpose (so adding draws to one purpose does not shift the others). */
  fork(salt: number): SeededRandom {
    return new SeededRandom(Math.imul(this.seed ^ 0x5bd1e995, 31) + salt * 0x27d4eb2d);
  }
}
