import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Runtime } from '../../runtime/index.ts';
import { defineActor, type ActorRef } from '../../actors/define.ts';
import { isWorkDraft } from '../../runtime/workcopy.ts';
import { apply, clone, expectDeepFrozen, message, refusedOrInert, rootState, walk, type Op, type Rec } from './nested-model.ts';

// The model property of test/runtime/workcopy.test.ts through a running actor (runtime/cell.ts): runs of tells
// handled in one working copy, asks and reads between them (commit points), handlers that throw mixed in, drafts kept
// by the handlers; the state compared after each read with a plain deep-copy reference.

const runs = Number(process.env.TROUPE_FC_RUNS ?? 50);

type Msg = { ops: Op[]; throws: boolean; keep: boolean };

/** Drafts the handlers kept past their message: written to once the state is committed (refused or inert). */
const kept: Rec[] = [];

function handle(state: Rec, m: Msg): void {
  if (m.keep) kept.push(state);
  for (const o of m.ops) apply(state, o);
  if (m.throws) throw new Error('boom');
}

const model = defineActor({
  kind: 'workcopy-model',
  init: (state: Rec) => state,
  handlers: {
    apply: (state, m: Msg) => handle(state as Rec, m),
    /** The same as an ask: committed before and after; the reply is the state after it. */
    applyAsk: (state, m: Msg) => {
      handle(state as Rec, m);
      return state;
    },
    get: (state) => state,
  },
});

const keptMessage = message.chain((m) => fc.boolean().map((keep) => ({ ...m, keep })));
const step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ step: fc.constant('tells' as const), messages: fc.array(keptMessage, { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant('ask' as const), message: keptMessage }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant('get' as const) }) },
);

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.start({ workers: 0 });
});
afterAll(() => rt.shutdown());

/** The reference after `m`: its ops on a deep copy, kept only if the handler did not throw. */
function next(reference: Rec, m: Msg): Rec {
  if (m.throws) return reference;
  const after = clone(reference);
  for (const o of m.ops) apply(after, o);
  return after;
}

async function expectState(ref: ActorRef<typeof model>, reference: Rec): Promise<Rec> {
  const state = (await rt.ask(ref, 'get')) as Rec;
  expect(isWorkDraft(state)).toBe(false);
  expect(state).toEqual(reference);
  expectDeepFrozen(state);
  return state;
}

describe('working copy through an actor: nested state against a deep-copy reference', () => {
  it('runs of tells, asks and reads, throwing handlers and kept drafts', async () => {
    await fc.assert(fc.asyncProperty(rootState, fc.array(step, { minLength: 1, maxLength: 6 }), async (init, steps) => {
      kept.length = 0;
      let reference = clone(init);
      const ref = await rt.spawn(model, { args: init });
      for (const s of steps) {
        if (s.step === 'tells') {
          // Sent in one go: handled as one run of tells (one working copy, a savepoint per message).
          for (const m of s.messages) {
            rt.tell(ref, 'apply', m);
            reference = next(reference, m);
          }
        } else if (s.step === 'ask') {
          const reply = rt.ask(ref, 'applyAsk', s.message);
          reference = next(reference, s.message);
          if (s.message.throws) await expect(reply).rejects.toThrow(/boom/);
          else expect(await reply).toEqual(reference);
        } else await expectState(ref, reference);
      }
      const state = await expectState(ref, reference);
      // A draft kept from any message cannot change the committed state.
      for (const d of kept) {
        refusedOrInert(() => { d.count = -1; });
        refusedOrInert(() => { delete d.a; });
        const inner = walk(d, [0]);
        if (inner !== d) refusedOrInert(() => { inner.zz = 1; });
      }
      expect(state).toEqual(reference);
      await expectState(ref, reference);
      await rt.stop(ref);
    }), { numRuns: runs });
  }, Math.max(30_000, runs * 400));
});
