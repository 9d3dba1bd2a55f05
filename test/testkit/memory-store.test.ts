import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ActorStore } from '../../persistence/store.ts';
import { defineActor } from '../../actors/define.ts';
import { MemoryDisk, MemoryStore } from '../../testkit/memory-store.ts';
import { StoreFaults } from '../../testkit/store-faults.ts';
import type { Fault } from '../../testkit/index.ts';
import { start } from './support/sims.ts';
import { ACTORS, contents, issue, kill, steps, type Kill, type Step } from './support/store-steps.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);
const CHILD = fileURLToPath(new URL('./support/store-kill-child.ts', import.meta.url));

/** How one store dies in the middle of a batch and comes back: the contents after, and where it died. */
type Killer = (store: ActorStore, step: Kill, next: Map<string, number>) => Promise<{ store: ActorStore; died: string }>;

/** Real LMDB: the kill step runs in a child process, which SIGKILLs itself mid-batch (support/store-kill-child.ts). */
const lmdbKill = (dir: string): Killer => async (store, step, next) => {
  await store.close();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', CHILD, dir, JSON.stringify({ step, next: [...next] })], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err?.signal === 'SIGKILL') resolve(stdout);
      else reject(new Error(`the child was not killed: ${err?.message ?? 'it exited'}\n${stderr}`));
    });
  });
  const [seqs, where] = out.trim().split('\n').map((l) => JSON.parse(l));
  for (const [id, n] of seqs as Array<[string, number]>) next.set(id, n);
  return { store: ActorStore.open(dir), died: (where as { died: string }).died };
};

/** The in-memory store: the same writes, then the handle dies (its open batch lost), a new one opens on the disk. */
const memoryKill = (disk: MemoryDisk): Killer => async (store, step, next) => {
  void issue(store, step.phase === 'gathering' ? step.writes.slice(0, step.at) : step.writes, next);
  (store as unknown as MemoryStore).kill();
  return { store: MemoryStore.open(disk), died: 'killed' };
};

/**
 * Run the steps on one store (the same calls, in the same order, in the same event-loop turns): each group's writes
 * issued together (one commit), then awaited; every result and the store's whole contents recorded after each step.
 * `reopen` is a restart of the process at that point (LMDB: close and open the directory again; memory: kill the
 * handle, open a new one on the same disk); `kill` a death in the middle of a batch. `faults`: the simulation's
 * store-fail faults, applied to every handle.
 */
async function play(list: Step[], open: () => ActorStore, reopen: (s: ActorStore) => Promise<ActorStore>, faults: Fault[], kill?: Killer) {
  const patch = new StoreFaults(faults, () => undefined);
  let store = open();
  patch.patch(store);
  const next = new Map<string, number>(ACTORS.map((a) => [a, 1]));
  const log: unknown[] = [];
  const deaths: string[] = [];
  for (const step of list) {
    if (step.kind === 'restart') {
      store = await reopen(store);
      patch.patch(store);
      log.push('restart', contents(store));
      continue;
    }
    if (step.kind === 'kill') {
      const before = contents(store);
      const killed = await kill!(store, step, next);
      store = killed.store;
      deaths.push(killed.died);
      const after = contents(store);
      expect(after).toEqual(before); // nothing of the batch it died in survives
      log.push('kill', after);
      continue;
    }
    const settled = await Promise.all(issue(store, step.writes, next));
    await store.settled(); // a write the fault plan failed still went to the store: read once its commit is done
    log.push(settled, contents(store));
  }
  await store.close();
  return { log, deaths };
}

describe('the in-memory store against LMDB', { timeout: 600_000 }, () => {
  it('the same operation sequences (group commits, store-fail faults, restarts) give the same results and the same contents (property)', async () => {
    const faults = fc.array(fc.record({ kind: fc.constant('store-fail' as const), onWrite: fc.integer({ min: 1, max: 25 }) }), { maxLength: 2 });
    await fc.assert(fc.asyncProperty(steps(), faults, async (list, plan) => {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-memstore-'));
      try {
        const disk = new MemoryDisk();
        const lmdb = await play(list, () => ActorStore.open(dir), async (s) => (await s.close(), ActorStore.open(dir)), plan);
        const memory = await play(list, () => MemoryStore.open(disk), async (s) => ((s as unknown as MemoryStore).kill(), MemoryStore.open(disk)), plan);
        expect(memory.log).toEqual(lmdb.log);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: Math.max(10, Math.round(RUNS / 2)) });
  });

  it('kills at random points within batches (real LMDB: a process SIGKILLed while gathering or inside the transaction): the same recovered contents (property)', async () => {
    const deaths: string[] = [];
    // At least one kill per sequence; each costs a child process (~1 s), so fewer runs.
    const withKill = fc.tuple(steps({ kills: true, maxLength: 10 }), kill).map(([list, k]) => [...list, k, { kind: 'restart' as const }] as Step[]);
    await fc.assert(fc.asyncProperty(withKill, async (list) => {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-memstore-kill-'));
      try {
        const disk = new MemoryDisk();
        const lmdb = await play(list, () => ActorStore.open(dir), async (s) => (await s.close(), ActorStore.open(dir)), [], lmdbKill(dir));
        const memory = await play(list, () => MemoryStore.open(disk), async (s) => ((s as unknown as MemoryStore).kill(), MemoryStore.open(disk)), [], memoryKill(disk));
        expect(memory.log).toEqual(lmdb.log);
        deaths.push(...lmdb.deaths);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: Math.max(4, Math.round(RUNS / 10)) });
    expect(deaths).toContain('in-transaction'); // LMDB did die with a transaction open, part of a batch in it
    expect(deaths).toContain('gathering');
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
