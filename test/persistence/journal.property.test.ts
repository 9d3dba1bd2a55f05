// One durable actor's persistence (runtime/persist.ts over a real LMDB store) under random sequences of appends
// (with or without a sender-given id), handled and crashed messages, stops and restarts (a fresh restore from
// disk), issued in random event-loop turns, against a model: the pending messages in order, the state, the seq,
// and the last K sender-given ids. After every turn, a restore from disk must agree with the model exactly:
// nothing lost, nothing handled redelivered, handled ids still recognised, the window bounded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActorDefinition } from '../../actors/define.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { ActorPersistence } from '../../runtime/persist.ts';
import { openStore } from './helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 50);

type Op =
  | { kind: 'append'; remember: boolean }
  | { kind: 'handle'; crash: boolean; ask: boolean }
  | { kind: 'restart' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), remember: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('handle' as const), crash: fc.boolean(), ask: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
);
// Each inner array is one event-loop turn: its writes are issued without awaiting, then awaited together.
const turns = fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 10 });

let runId = 0;

async function check(dedupWindow: number): Promise<void> {
  const { store } = openStore();
  const clock = new ManualClock();
  const def = {
    kind: 'sum', init: () => 0, handlers: {}, module: 'test',
    persistence: { durableMailbox: true, dedupWindow },
  } as unknown as ActorDefinition;

  await fc.assert(
    fc.asyncProperty(turns, async (plan) => {
      const id = `actor-${runId++}`; // fresh actor per run (and per shrink step), one store for all
      let { persistence: p, state, journal } = ActorPersistence.restore(store, id, def, undefined, clock);
      expect(journal).toEqual([]);
      // model
      const pending: Array<{ seq: number; id: string; n: number }> = [];
      let modelState = 0;
      let handledSeq = 0;
      const remembered: string[] = []; // sender-given ids, oldest first
      let queue: Array<{ seq: number; id: string; n: number }> = []; // what the live incarnation has in its mailbox
      let n = 0;

      for (const turn of plan) {
        const writes: Promise<unknown>[] = [];
        for (const o of turn) {
          if (o.kind === 'append') {
            n++;
            const messageId = o.remember ? `given-${n}` : `gen-${n}`;
            expect(p.seen(messageId)).toBe(false);
            const { seq, written } = p.append(messageId, 'add', n, o.remember);
            pending.push({ seq, id: messageId, n });
            queue.push({ seq, id: messageId, n });
            if (o.remember) {
              remembered.push(messageId);
              if (remembered.length > dedupWindow) remembered.shift();
            }
            writes.push(written);
          } else if (o.kind === 'handle' && queue.length > 0) {
            const m = queue.shift()!;
            expect(pending.shift()).toEqual(m);
            handledSeq = m.seq;
            if (!o.crash) modelState += m.n;
            state = o.crash ? p.lastState : (state as number) + m.n;
            // An ask waits for the durable state; a tell's snapshot rides along with a later commit.
            const durable = p.handled(m.seq, state, o.ask && !o.crash);
            if (o.ask && !o.crash) writes.push(durable!);
            else expect(durable).toBeUndefined();
          } else if (o.kind === 'restart') {
            await Promise.all(writes.splice(0));
            await p.flush();
            ({ persistence: p, state, journal } = ActorPersistence.restore(store, id, def, undefined, clock));
            queue = journal.map((e) => ({ seq: e.seq, id: e.id, n: e.payload as number }));
          }
        }
        await Promise.all(writes);
        await p.flush();

        // The live incarnation agrees with the model ...
        expect(state).toBe(modelState);
        expect(p.seq).toBe(handledSeq);
        for (const m of remembered) expect(p.seen(m)).toBe(true);
        // ... and so does a restore from disk.
        const back = ActorPersistence.restore(store, id, def, undefined, clock);
        expect(back.state).toBe(modelState);
        expect(back.persistence.seq).toBe(handledSeq);
        expect(back.journal.map((e) => ({ seq: e.seq, id: e.id, n: e.payload }))).toEqual(pending);
        expect(store.rememberedIds(id).map((r) => r.id)).toEqual(remembered);
        for (const m of remembered) expect(back.persistence.seen(m)).toBe(true);
        // Retention: besides the pending messages, at most one segment of handled ones is left (the one a snapshot
        // could not remove because it was still gathering messages in the same commit).
        expect(store.journalSegments(id).filter((seg) => seg.last <= handledSeq).length).toBeLessThanOrEqual(1);
      }
    }),
    { numRuns: RUNS },
  );
}

describe('a durable mailbox under random appends, handles, crashes and restarts', () => {
  it('loses nothing, redelivers nothing handled, remembers every given id (window larger than the run)', () =>
    check(1024));

  it('keeps the dedup window bounded when it is small', () => check(3));
});
