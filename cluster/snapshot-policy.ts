/**
 * When a failover actor snapshots, and whether a snapshot write may replace the one in the bucket. Pure.
 *
 * A snapshot record is `{ token, seq }` (plus the state): the state after the journal's messages up to stream
 * sequence `seq`, written by the owner whose fencing token (its key's revision in the actors bucket) is `token`.
 * Tokens only grow from one owner to the next, and the journal is trimmed only up to a snapshot that was written,
 * so the record in the bucket must never go back: a write from an older token (a paused old owner that resumed) is
 * fenced, and one from the same token with a seq no greater than the record's is stale (nothing to replace).
 */
export interface SnapshotMark {
  token: number;
  seq: number;
}

export type SnapshotDecision = 'write' | 'fenced' | 'stale';

export function snapshotDecision(held: SnapshotMark | undefined, mine: SnapshotMark): SnapshotDecision {
  if (held === undefined) return 'write';
  if (held.token > mine.token) return 'fenced';
  if (held.token === mine.token && held.seq >= mine.seq) return 'stale';
  return 'write';
}

/** Every `every` applied journal messages (0: never), one snapshot at a time. */
export class SnapshotCadence {
  private since = 0;
  private inFlight = false;

  constructor(readonly every: number) {}

  /** One more message applied: is a snapshot due now? */
  applied(): boolean {
    this.since++;
    return this.every > 0 && !this.inFlight && this.since >= this.every;
  }

  started(): void {
    this.inFlight = true;
    this.since = 0;
  }

  /** The snapshot is done (or failed: the next one is due after `every` more messages either way). */
  finished(): void {
    this.inFlight = false;
  }
}
