import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotCadence, snapshotDecision, type SnapshotMark } from '../../cluster/snapshot-policy.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 200);

describe('failover snapshot policies (pure)', () => {
  it('a write replaces nothing newer: older tokens are fenced, the same token needs a greater seq', () => {
    expect(snapshotDecision(undefined, { token: 1, seq: 0 })).toBe('write');
    expect(snapshotDecision({ token: 5, seq: 10 }, { token: 3, seq: 50 })).toBe('fenced');
    expect(snapshotDecision({ token: 5, seq: 10 }, { token: 5, seq: 10 })).toBe('stale');
    expect(snapshotDecision({ token: 5, seq: 10 }, { token: 5, seq: 11 })).toBe('write');
    expect(snapshotDecision({ token: 5, seq: 10 }, { token: 7, seq: 10 })).toBe('write'); // a new owner's claim
  });

  it('whatever writers try in whatever order, the record never goes back (so no trim passes a newer owner)', () => {
    const attempt = fc.record({ token: fc.integer({ min: 1, max: 6 }), seq: fc.integer({ min: 0, max: 40 }) });
    fc.assert(fc.property(fc.array(attempt, { maxLength: 60 }), (attempts: SnapshotMark[]) => {
      let held: SnapshotMark | undefined;
      for (const mine of attempts) {
        if (snapshotDecision(held, mine) !== 'write') continue;
        if (held !== undefined) {
          expect(mine.token >= held.token).toBe(true);
          if (mine.token === held.token) expect(mine.seq > held.seq).toBe(true);
        }
        held = mine;
      }
    }), { numRuns: runs });
  });

  it('cadence: due every N applied messages, one snapshot at a time, never when N is 0', () => {
    const c = new SnapshotCadence(3);
    expect([c.applied(), c.applied(), c.applied()]).toEqual([false, false, true]);
    c.started();
    expect([c.applied(), c.applied(), c.applied(), c.applied()]).toEqual([false, false, false, false]); // one in flight
    c.finished();
    expect(c.applied()).toBe(true); // 5 applied since it started
    const never = new SnapshotCadence(0);
    expect(Array.from({ length: 500 }, () => never.applied()).some(Boolean)).toBe(false);
  });
});
