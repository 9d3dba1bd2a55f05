import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ActorStore } from '../../persistence/store.ts';
import { defineActor } from '../../actors/define.ts';
import { MemoryDisk, MemoryStore } from '../../testkit/memory-store.ts';
import { StoreFaults } from '../../testkit/store-faults.ts';
import type { Fault } from '../../testkit/index.ts';
import { start } from './support/sims.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);
const ACTORS = ['a', 'b'];

/** One write the sequence makes; references (which id, which seq) are resolved against what the store holds. */
type Write =
  | { op: 'append'; actor: number; remember: boolean; payload: unknown }
  | { op: 'snapshot'; actor: number; state: unknown; removeSegments: boolean; keep: number }
  | { op: 'forget'; actor: number; pick: number }
  | { op: 'delivery'; actor: number; attempts: number }
  | { op: 'poison'; actor: number; pick: number }
  | { op: 'drop-poison'; actor: number; pick: number }
  | { op: 'delete'; actor: number }
  | { op: 'unencodable'; actor: number };
type Step = { kind: 'group'; writes: Write[] } | { kind: 'restart' };

const actor = fc.integer({ min: 0, max: ACTORS.length - 1 });
const value = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 3 }), fc.record({ n: fc.integer(), s: fc.string({ maxLength: 4 }) }));
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('append' as const), actor, remember: fc.boolean(), payload: value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('snapshot' as const), actor, state: value, removeSegments: fc.boolean(), keep: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ op: fc.constant('forget' as const), actor, pick: fc.nat(9) }),
  fc.record({ op: fc.constant('delivery' as const), actor, attempts: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('poison' as const), actor, pick: fc.nat(9) }),
  fc.record({ op: fc.constant('drop-poison' as const), actor, pick: fc.nat(9) }),
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), actor }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unencodable' as const), actor }) },
);
const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof({ weight: 6, arbitrary: fc.record({ kind: fc.constant('group' as const), writes: fc.array(write, { minLength: 1, maxLength: 6 }) }) }, { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) }),
  { minLength: 1, maxLength: 16 },
);

/** Everything a store holds for the actors (what recovery reads). */
function contents(s: ActorStore) {
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
 * Run the steps on one store (the same calls, in the same order, in the same event-loop turns): each group's writes
 * issued together (one commit), then awaited; every result and the store's whole contents recorded after each step.
 * `reopen` is a restart of the process at that point (LMDB: close and open the directory again; memory: kill the
 * handle, open a new one on the same disk). `faults`: the simulation's store-fail faults, applied to every handle.
 */
async function play(list: Step[], open: () => ActorStore, reopen: (s: ActorStore) => Promise<ActorStore>, faults: Fault[]) {
  const patch = new StoreFaults(faults, () => undefined);
  let store = open();
  patch.patch(store);
  const next = new Map<string, number>(ACTORS.map((a) => [a, 1]));
  const log: unknown[] = [];
  for (const step of list) {
    if (step.kind === 'restart') {
      store = await reopen(store);
      patch.patch(store);
      log.push('restart', contents(store));
      continue;
    }
    const results: Array<Promise<unknown>> = [];
    for (const w of step.writes) {
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
    const settled = await Promise.all(results);
    await store.settled(); // a write the fault plan failed still went to the store: read once its commit is done
    log.push(settled, contents(store));
  }
  await store.close();
  return log;
}

describe('the in-memory store against LMDB', { timeout: 600_000 }, () => {
  it('the same operation sequences (group commits, store-fail faults, restarts) give the same results and the same contents (property)', async () => {
    const faults = fc.array(fc.record({ kind: fc.constant('store-fail' as const), onWrite: fc.integer({ min: 1, max: 25 }) }), { maxLength: 2 });
    await fc.assert(fc.asyncProperty(steps, faults, async (list, plan) => {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-memstore-'));
      try {
        const disk = new MemoryDisk();
        const lmdb = await play(list, () => ActorStore.open(dir), async (s) => (await s.close(), ActorStore.open(dir)), plan);
        const memory = await play(list, () => MemoryStore.open(disk), async (s) => ((s as unknown as MemoryStore).kill(), MemoryStore.open(disk)), plan);
        expect(memory).toEqual(lmdb);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: Math.max(10, Math.round(RUNS / 2)) });
  });

  it('a failed commit fails every write of its batch and applies none of them; later commits go on', async () => {
    const disk = new MemoryDisk();
    const store = MemoryStore.open(disk);
    await store.appendJournal('a', 1, { id: 'm1', type: 't', payload: 1 }, true).done;
    disk.failCommits = 1;
    const batch = [store.appendJournal('a', 2, { id: 'm2', type: 't', payload: 2 }, true).done, store.writeSnapshot('a', { version: 1, seq: 2, state: 'x', at: 0 }, { removeSegments: [1] }), store.recordDelivery('a', { seq: 2, attempts: 1 })];
    const settled = await Promise.allSettled(batch);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([1]);
    expect(store.readSnapshot('a')).toBeUndefined();
    expect(store.deliveryRecord('a')).toBeUndefined();
    expect(store.rememberedIds('a')).toEqual([{ id: 'm1', seq: 1 }]);
    await store.appendJournal('a', 2, { id: 'm2', type: 't', payload: 2 }).done;
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a kill loses the batch being gathered, never a committed one, and a batch is never applied in part', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }), fc.nat(5), async (groups, killAt) => {
      const disk = new MemoryDisk();
      let store = MemoryStore.open(disk) as unknown as MemoryStore;
      let seq = 0;
      const acked: number[] = [];
      for (const [g, size] of groups.entries()) {
        const writes = Array.from({ length: size }, () => ++seq).map((s) => store.appendJournal('a', s, { id: `m${s}`, type: 't', payload: s }).done.then(() => acked.push(s)));
        if (g === killAt) {
          store.kill(); // before the batch commits
          break;
        }
        await Promise.all(writes);
      }
      store = MemoryStore.open(disk) as unknown as MemoryStore;
      const kept = store.journalEntries('a').map((e) => e.seq);
      expect(kept).toEqual(acked); // exactly what was acknowledged: whole batches, in order
      expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => i + 1));
    }), { numRuns: RUNS });
  });
});

const account = defineActor({
  kind: 'account',
  persistence: { durableMailbox: true },
  init: () => ({ applied: [] as string[] }),
  handlers: {
    deposit: (s, d: { id: string }) => {
      s.applied.push(d.id);
    },
  },
});

describe('simulations on the in-memory store', { timeout: 60_000 }, () => {
  it('a whole-system crash restarts from the in-memory store: acknowledged deposits exactly once, and the run replays exactly', async () => {
    const once = async () => {
      const acked: string[] = [];
      const sim = await start({ seed: 4, durable: 'memory', maxDeliveryDelayMs: 2, faults: [{ kind: 'crash-system', atMs: 3 }], setup: async (s) => void (await s.spawn(account, { id: 'a' })) });
      for (let i = 0; i < 8; i++) {
        sim.send(sim.ref('a'), 'deposit', { id: `d${i}` }, { messageId: `d${i}` }).then(() => acked.push(`d${i}`), () => undefined);
        await sim.advance(1);
      }
      await sim.runUntilIdle();
      const state = await sim.state<{ applied: string[] }>('a');
      return { sim, acked, applied: state!.applied };
    };
    const a = await once();
    expect(a.sim.systemCrashes).toBe(1);
    expect(a.acked.length).toBeGreaterThan(3);
    for (const id of a.acked) expect(a.applied.filter((x) => x === id)).toHaveLength(1); // before and after the crash
    expect(new Set(a.applied).size).toBe(a.applied.length);
    const b = await once();
    expect(b.sim.hash()).toBe(a.sim.hash());
  });

  it('a bad durable option is a named error', async () => {
    await expect(start({ seed: 1, durable: 'disk' as never })).rejects.toMatchObject({ code: 'ERR_SIM_INVALID_OPTION' });
  });
});
