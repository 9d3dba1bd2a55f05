// Commit faults on real LMDB (a temporary directory) and on the in-memory store: a commit that fails whole
// (`commit-fail`), and the whole system dying during a commit (`crash-system` with `onCommit`), through the store's
// CommitFault seam (persistence/group-commit.ts). The runtime's promise under both: a message whose commit failed or
// vanished is not acknowledged, and nothing acknowledged is lost or applied twice, before or after a restart.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { faultPlanArbitrary, validatePlan, type Fault, type Simulation } from '../../testkit/index.ts';
import { account } from './fixtures/systems.ts';
import { start } from './support/sims.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);
const STORES = [true, 'memory'] as const;
const setup = async (s: Simulation) => void (await s.spawn(account, { id: 'a' }));

/** `n` deposits with ids d0.. (a few in each step, so a commit carries several), then idle; outcomes by id. */
async function deposits(sim: Simulation, n: number, perStep: number) {
  const outcome = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const id = `d${i}`;
    sim.send(sim.ref('a'), 'deposit', { id, amount: 1 }, { messageId: id }).then(() => outcome.set(id, 'ok'), (e: { code?: string }) => outcome.set(id, e.code ?? 'error'));
    if (i % perStep === perStep - 1) await sim.advance(1);
  }
  await sim.runUntilIdle();
  const state = await sim.state<{ applied: string[] }>('a');
  return { outcome, applied: state?.applied ?? [] };
}

/** The runtime's promise: every acknowledged deposit is applied exactly once, and nothing is applied twice. */
function promiseHolds(outcome: Map<string, string>, applied: string[]): void {
  for (const [id, o] of outcome) if (o === 'ok') expect(applied.filter((x) => x === id), `acknowledged ${id}`).toHaveLength(1);
  expect(new Set(applied).size).toBe(applied.length);
}

describe.each(STORES)('commit faults (durable: %s)', (durable) => {
  it('a failed commit: its messages are not acknowledged (journal-failed), nothing of it applied; later commits go on and survive a restart', async () => {
    const sim = await start({ seed: 3, durable, maxDeliveryDelayMs: 0, faults: [{ kind: 'commit-fail', onCommit: 3 }, { kind: 'crash-system', atMs: 40 }], setup });
    const { outcome, applied } = await deposits(sim, 6, 1);
    await sim.advance(50); // the crash at 40 ms, and the restart from the store
    const failed = [...outcome].filter(([, o]) => o !== 'ok');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every(([, o]) => o === 'ERR_SIM_INJECTED_FAULT')).toBe(true);
    expect(sim.deadLetters.filter((d) => d.reason === 'journal-failed').length).toBe(failed.length);
    for (const [id] of failed) expect(applied).not.toContain(id);
    promiseHolds(outcome, applied);
    expect(sim.systemCrashes).toBe(1);
    const after = await sim.state<{ applied: string[] }>('a'); // read back from the store after the restart
    promiseHolds(outcome, after!.applied);
    expect(sim.trace.list().some((e) => e.what === 'fault' && e.detail === 'commit #3 fails')).toBe(true);
  });

  it('the system dies during a commit carrying several messages: none of them is acknowledged or applied, the earlier ones survive', async () => {
    const sim = await start({ seed: 5, durable, maxDeliveryDelayMs: 0, faults: [{ kind: 'crash-system', onCommit: 4 }], setup });
    const { outcome, applied } = await deposits(sim, 9, 3);
    expect(sim.systemCrashes).toBe(1);
    const lost = [...outcome].filter(([, o]) => o !== 'ok').map(([id]) => id);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect([...outcome.values()].filter((o) => o !== 'ok').every((o) => o === 'ERR_SIM_INJECTED_FAULT')).toBe(true);
    promiseHolds(outcome, applied);
    expect(outcome.size).toBe(9);
    expect(sim.trace.list().some((e) => e.what === 'fault' && e.detail === 'the system dies during commit #4')).toBe(true);
  });
});

describe('commit faults: real LMDB and the in-memory store agree', { timeout: 600_000 }, () => {
  it('random deposits under random commit failures and crashes during commits, then retried with the same ids: each applied exactly once; the same outcomes, state and trace on both stores (property)', async () => {
    const plan = fc.array(fc.oneof(
      fc.record({ kind: fc.constant('commit-fail' as const), onCommit: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('crash-system' as const), onCommit: fc.integer({ min: 1, max: 12 }) }),
    ), { minLength: 1, maxLength: 3 });
    const seen = { crashes: 0, failed: 0 };
    await fc.assert(fc.asyncProperty(plan, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), fc.constantFrom(0, 2), async (faults: Fault[], n, perStep, seed, threads) => {
      const runs = [];
      for (const durable of STORES) {
        const sim = await start({ seed, durable, threads, maxDeliveryDelayMs: 2, faults, setup });
        const { outcome, applied } = await deposits(sim, n, perStep);
        promiseHolds(outcome, applied);
        // The senders retry with the same ids: what failed, and (a duplicate) every other one. Each id is then
        // applied exactly once: the store remembered the acknowledged ids across the crashes.
        // (A retry may meet a fault of the plan too: the plan is finite, so a few rounds get every id acknowledged.)
        const retried = new Map<string, string>();
        for (let round = 0; round < 5 && !(retried.size === n && [...retried.values()].every((o) => o === 'ok')); round++) {
          for (let i = 0; i < n; i++) {
            const id = `d${i}`;
            if (retried.get(id) === 'ok') continue;
            sim.send(sim.ref('a'), 'deposit', { id, amount: 1 }, { messageId: id }).then(() => retried.set(id, 'ok'), (e: { code?: string }) => retried.set(id, e.code ?? 'error'));
          }
          await sim.runUntilIdle();
        }
        const after = (await sim.state<{ applied: string[] }>('a'))!.applied;
        expect([...retried.values()].every((o) => o === 'ok'), JSON.stringify([...retried])).toBe(true);
        expect([...after].sort()).toEqual(Array.from({ length: n }, (_, i) => `d${i}`).sort());
        runs.push({ outcome: [...outcome].sort(), applied, after, crashes: sim.systemCrashes, hash: sim.hash() });
      }
      expect(runs[1]).toEqual(runs[0]);
      seen.crashes += runs[0].crashes;
      seen.failed += runs[0].outcome.filter(([, o]) => o !== 'ok').length;
    }), { numRuns: Math.max(10, Math.round(RUNS / 5)) });
    expect(seen.crashes).toBeGreaterThan(0); // the runs did reach the faults
    expect(seen.failed).toBeGreaterThan(0);
  });

  it('faultPlanArbitrary draws commit-fail faults, and crash-system on a commit given maxCommit', () => {
    const faults = fc.sample(faultPlanArbitrary({ actors: ['a'], kinds: ['commit-fail', 'crash-system'], maxCommit: 5, maxFaults: 4 }), { seed: 1, numRuns: 50 }).flat();
    expect(faults.some((f) => f.kind === 'commit-fail' && f.onCommit >= 1 && f.onCommit <= 5)).toBe(true);
    expect(faults.some((f) => f.kind === 'crash-system' && 'onCommit' in f)).toBe(true);
    expect(faults.some((f) => f.kind === 'crash-system' && 'atMs' in f)).toBe(true);
    for (const f of faults) validatePlan([f]);
  });

  it('a malformed commit fault is a named error', async () => {
    await expect(start({ seed: 1, faults: [{ kind: 'commit-fail', onCommit: 0 }] })).rejects.toMatchObject({ code: 'ERR_SIM_INVALID_OPTION' });
    await expect(start({ seed: 1, faults: [{ kind: 'crash-system' } as never] })).rejects.toMatchObject({ code: 'ERR_SIM_INVALID_OPTION' });
  });
});
