// Random interleavings of appendJournal / commitHandled / writeSnapshot, issued in random turns (one group
// commit each), against a model: per actor, an array of pending entries. The journal must match it exactly:
// in order, nothing lost, nothing left behind that a snapshot covers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore, snap } from './helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 50);
// 'a' and 'ab' share a key prefix, so one actor's range must not leak into the other's.
const ACTORS = ['a', 'ab', 'b'] as const;

type Op =
  | { kind: 'append'; actor: number }
  | { kind: 'commit'; actor: number; pick: number }
  | { kind: 'snapshot'; actor: number; offset: number }; // snapshot at (last seq + offset): behind, at, or ahead
const actor = fc.nat(ACTORS.length - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), actor }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), actor, pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('snapshot' as const), actor, offset: fc.integer({ min: -3, max: 6 }) }),
  },
);
// Each inner array is one event-loop turn: its writes are issued without awaiting, then awaited together.
const turns = fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });

let runId = 0;

async function check(dedupWindow: number, allCommittedSeen: boolean): Promise<void> {
  const { store } = openStore({ dedupWindow });
  await fc.assert(
    fc.asyncProperty(turns, async (plan) => {
      const run = `r${runId++}`; // fresh actor ids per run (and per shrink step), one store for all
      const id = (i: number) => `${run}-${ACTORS[i]}`;
      const pending = ACTORS.map(() => [] as { seq: number; id: string }[]);
      const last = ACTORS.map(() => 0); // last seq handed out
      const lastSnapshot = ACTORS.map((): number | undefined => undefined);
      const covered = ACTORS.map(() => new Set<string>());
      const cover = (i: number, upTo: number) => {
        for (const e of pending[i].filter((e) => e.seq <= upTo)) covered[i].add(e.id);
        pending[i] = pending[i].filter((e) => e.seq > upTo);
        lastSnapshot[i] = upTo;
      };

      for (const turn of plan) {
        const writes: Promise<unknown>[] = [];
        const expectedSeqs: Array<[Promise<number>, number]> = [];
        for (const o of turn) {
          const i = o.actor;
          if (o.kind === 'append') {
            const seq = ++last[i];
            pending[i].push({ seq, id: `m${seq}` });
            const p = store.appendJournal(id(i), { id: `m${seq}`, type: 't', payload: { seq } });
            expectedSeqs.push([p, seq]);
            writes.push(p);
          } else if (o.kind === 'commit' && pending[i].length > 0) {
            const target = pending[i][o.pick % pending[i].length];
            cover(i, target.seq);
            const snapshot = snap(target.seq, { upTo: target.seq });
            writes.push(store.commitHandled(id(i), { seq: target.seq, snapshot, messageId: target.id }));
          } else if (o.kind === 'snapshot') {
            const seq = Math.max(0, last[i] + o.offset);
            cover(i, seq);
            last[i] = Math.max(last[i], seq);
            writes.push(store.writeSnapshot(id(i), snap(seq, { upTo: seq })));
          }
        }
        await Promise.all(writes);
        for (const [p, seq] of expectedSeqs) expect(await p).toBe(seq);
        ACTORS.forEach((_, i) => {
          expect(store.journalEntries(id(i)).map((e) => ({ seq: e.seq, id: e.id }))).toEqual(pending[i]);
          expect(store.readSnapshot(id(i))?.seq).toBe(lastSnapshot[i]);
          for (const e of pending[i]) expect(store.seenMessage(id(i), e.id)).toBe(false);
          const seen = [...covered[i]].filter((m) => store.seenMessage(id(i), m));
          if (allCommittedSeen) expect(seen).toHaveLength(covered[i].size);
          else expect(seen.length).toBeLessThanOrEqual(dedupWindow);
        });
      }
    }),
    { numRuns: RUNS },
  );
}

describe('journal under random interleavings', () => {
  it('keeps order, never loses an entry, and remembers every handled id (window larger than the run)', () =>
    check(1024, true));

  it('keeps the dedup window bounded when it is small', () => check(4, false));
});
