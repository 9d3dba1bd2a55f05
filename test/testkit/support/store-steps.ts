// The operation sequences the in-memory store is compared with LMDB on (test/testkit/memory-store.test.ts), shared
// with the child process that is killed in the middle of a batch on real LMDB (store-kill-child.ts).
import fc from 'fast-check';
import type { ActorStore } from '../../../persistence/store.ts';

export const ACTORS = ['a', 'b'];

/** One write the sequence makes; references (which id, which seq) are resolved against what the store holds. */
export type Write =
  | { op: 'append'; actor: number; remember: boolean; payload: unknown }
  | { op: 'snapshot'; actor: number; state: unknown; removeSegments: boolean; keep: number }
  | { op: 'forget'; actor: number; pick: number }
  | { op: 'delivery'; actor: number; attempts: number }
  | { op: 'poison'; actor: number; pick: number }
  | { op: 'drop-poison'; actor: number; pick: number }
  | { op: 'delete'; actor: number }
  | { op: 'unencodable'; actor: number };
/**
 * A kill: the process dies in the middle of a batch. `gathering`: after the first `at` writes of the group are
 * issued, before the batch commits; `commit`: every write issued, then inside the commit's transaction as it makes
 * its `at`-th put or remove (or, with fewer, after the last one, before the transaction commits).
 */
export type Kill = { kind: 'kill'; writes: Write[]; at: number; phase: 'gathering' | 'commit' };
export type Step = { kind: 'group'; writes: Write[] } | { kind: 'restart' } | Kill;

const actor = fc.integer({ min: 0, max: ACTORS.length - 1 });
const value = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 3 }), fc.record({ n: fc.integer(), s: fc.string({ maxLength: 4 }) }));
export const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('append' as const), actor, remember: fc.boolean(), payload: value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('snapshot' as const), actor, state: value, removeSegments: fc.boolean(), keep: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ op: fc.constant('forget' as const), actor, pick: fc.nat(9) }),
  fc.record({ op: fc.constant('delivery' as const), actor, attempts: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('poison' as const), actor, pick: fc.nat(9) }),
  fc.record({ op: fc.constant('drop-poison' as const), actor, pick: fc.nat(9) }),
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), actor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unencodable' as const), actor }) },
);
const group = fc.record({ kind: fc.constant('group' as const), writes: fc.array(write, { minLength: 1, maxLength: 6 }) });
const restart = fc.constant({ kind: 'restart' as const });
export const kill: fc.Arbitrary<Kill> = fc.record({ kind: fc.constant('kill' as const), writes: fc.array(write, { minLength: 1, maxLength: 8 }), at: fc.nat(12), phase: fc.constantFrom('gathering' as const, 'commit' as const) });

/** Group commits and restarts; with `kills`, kills in the middle of batches among them. */
export function steps(o: { kills?: boolean; maxLength?: number } = {}): fc.Arbitrary<Step[]> {
  const kinds: Array<fc.WeightedArbitrary<Step>> = [{ weight: 6, arbitrary: group }, { weight: 1, arbitrary: restart }];
  if (o.kills === true) kinds.push({ weight: 2, arbitrary: kill });
  return fc.array(fc.oneof(...kinds), { minLength: 1, maxLength: o.maxLength ?? 16 });
}

/** Everything a store holds for the actors (what recovery reads). */
export function contents(s: ActorStore) {
  return ACTORS.map((id) => ({
    snapshot: s.readSnapshot(id),
    history: s.snapshotHistory(id),
    segments: s.journalSegments(id),
    remembered: s.rememberedIds(id),
    seen: s.rememberedIds(id).map((r) => s.seenMessage(id, r.id)),
    delivery: s.deliveryRecord(id),
    poison: s.poisonMessages(id),
  }));
}

const outcome = (p: Promise<unknown>) => p.then((v) => ({ ok: v ?? true }), (e: { code?: string; message?: string }) => ({ failed: e.code ?? e.message }));
const thrown = (fn: () => unknown) => {
  try {
    const r = fn();
    return r instanceof Promise ? outcome(r) : Promise.resolve({ ok: r ?? true });
  } catch (e) {
    return Promise.resolve({ threw: (e as { code?: string }).code });
  }
};

/**
 * Issue `writes` on `store`, in order, synchronously (so they join one batch): their outcomes, once settled.
 * `next`: the next journal seq of each actor (advanced for each append).
 */
export function issue(store: ActorStore, writes: readonly Write[], next: Map<string, number>): Array<Promise<unknown>> {
  const results: Array<Promise<unknown>> = [];
  for (const w of writes) {
    const id = ACTORS[w.actor];
    const remembered = store.rememberedIds(id);
    const poison = store.poisonMessages(id);
    const journal = store.journalEntries(id);
    switch (w.op) {
      case 'append': {
        const seq = next.get(id)!;
        next.set(id, seq + 1);
        results.push(thrown(() => store.appendJournal(id, seq, { id: `${id}-m${seq}`, type: 't', payload: w.payload }, w.remember).done));
        break;
      }
      case 'snapshot': {
        const segs = store.journalSegments(id).map((s) => s.first);
        const seq = next.get(id)! - 1; // every message handed out so far is applied
        results.push(thrown(() => store.writeSnapshot(id, { version: 1, seq, state: w.state, at: 1000 + seq }, { removeSegments: w.removeSegments ? segs : [], keep: w.keep })));
        break;
      }
      case 'forget':
        if (remembered.length > 0) results.push(thrown(() => store.forgetMessage(id, remembered[w.pick % remembered.length].id)));
        break;
      case 'delivery':
        if (journal.length > 0) results.push(thrown(() => store.recordDelivery(id, { seq: journal[0].seq, attempts: w.attempts })));
        break;
      case 'poison':
        if (journal.length > 0) {
          const m = journal[w.pick % journal.length];
          results.push(thrown(() => store.putPoison(id, { ...m, attempts: 3, at: 5 })));
        }
        break;
      case 'drop-poison':
        results.push(thrown(() => store.dropPoison(id, poison.length > 0 ? poison[w.pick % poison.length].seq : 1)));
        break;
      case 'delete':
        results.push(thrown(() => store.deleteActor(id)));
        break;
      case 'unencodable':
        results.push(thrown(() => store.appendJournal(id, next.get(id)!, { id: `${id}-bad`, type: 't', payload: { f: Symbol('x') } }).done));
        break;
    }
  }
  return results;
}
