// Random interleavings of appendJournal/commitHandled, issued in random turns (one group commit each), against a
// model: per actor, an array of pending entries. The journal must match it exactly: in order, nothing lost.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore, snap } from './helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 50);
// 'a' and 'ab' share a key prefix, so one actor's range must not leak into the other's.
const ACTORS = ['a', 'ab', 'b'] as const;

type Op = { kind: 'append'; actor: number } | { kind: 'commit'; actor: number; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), actor: fc.nat(ACTORS.length - 1) }),
  fc.record({ kind: fc.constant('commit' as const), actor: fc.nat(ACTORS.length - 1), pick: fc.nat() }),
);
// Each inner array is one event-loop turn: its writes are issued without awaiting, then awaited together.
const turns = fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });

let runId = 0;

describe('journal under random interleavings', () => {
  it('keeps order and never loses an entry', async () => {
    const { store } = openStore();
    await fc.assert(
      fc.asyncProperty(turns, async (plan) => {
        const run = `r${runId++}`; // fresh actor ids per run (and per shrink step), one store for all
        const id = (i: number) => `${run}-${ACTORS[i]}`;
        const model = ACTORS.map(() => [] as { seq: number; id: string }[]);
        const nextSeq = ACTORS.map(() => 1);
        const lastSnapshot = ACTORS.map(() => 0);
        const committedIds = ACTORS.map(() => new Set<string>());

        for (const turn of plan) {
          const pending: Promise<unknown>[] = [];
          const expectedSeqs: Array<[Promise<number>, number]> = [];
          for (const o of turn) {
            const pendingOfActor = model[o.actor];
            if (o.kind === 'append') {
              const seq = nextSeq[o.actor]++;
              const messageId = `m${seq}`;
              pendingOfActor.push({ seq, id: messageId });
              const p = store.appendJournal(id(o.actor), { id: messageId, type: 't', payload: { seq } });
              expectedSeqs.push([p, seq]);
              pending.push(p);
            } else if (pendingOfActor.length > 0) {
              // A snapshot at seq covers every earlier entry, so they all leave the journal.
              const target = pendingOfActor[o.pick % pendingOfActor.length];
              for (const e of pendingOfActor.filter((e) => e.seq <= target.seq)) committedIds[o.actor].add(e.id);
              model[o.actor] = pendingOfActor.filter((e) => e.seq > target.seq);
              lastSnapshot[o.actor] = target.seq;
              const snapshot = snap(target.seq, { upTo: target.seq });
              pending.push(store.commitHandled(id(o.actor), { seq: target.seq, snapshot, messageId: target.id }));
            }
          }
          await Promise.all(pending);
          for (const [p, seq] of expectedSeqs) expect(await p).toBe(seq);
          ACTORS.forEach((_, i) => {
            expect(store.journalEntries(id(i)).map((e) => ({ seq: e.seq, id: e.id }))).toEqual(model[i]);
            expect(store.readSnapshot(id(i))?.seq).toBe(lastSnapshot[i] || undefined);
            for (const m of committedIds[i]) expect(store.seenMessage(id(i), m)).toBe(true);
            for (const e of model[i]) expect(store.seenMessage(id(i), e.id)).toBe(false);
          });
        }
      }),
      { numRuns: RUNS },
    );
  });
});
