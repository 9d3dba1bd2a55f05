import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../actors/define.ts';
import type { CrashReport } from '../../supervisors/supervisor.ts';
import { InvalidSpawnOptionError, Runtime } from '../../runtime/index.ts';
import { InvalidSupervisorOptionError } from '../../supervisors/policy/index.ts';
import { clusterOf, spawnFailover } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { account } from './failover-actors.ts';

/**
 * Supervision of cluster-owned children beyond restarts (owned.test.ts): circuits and their trial.
 * Mailbox options of cluster-owned children (and spawnFailover): every message in a failover actor's mailbox was
 * journaled and acknowledged already, so a bounded mailbox cannot drop any: it is a window (at most `capacity`
 * handed to the incarnation at once, the rest wait in order on the hosting node). Before, the incarnation took the
 * definition's mailbox as it was, and a burst of journaled mail overflowed it (dropped, yet in the journal's fold).
 */
describe.skipIf(noNats)('cluster-owned children: circuits, mailbox options', () => {
  const suite = clusterSuite();

  it('an open circuit holds its journaled mail; its trial is one message: a crash there reopens it, a success closes it', async () => {
    const a = await suite.node('a', { name: 'circuit' });
    const b = await suite.node('b', { name: 'circuit' });
    const reports: CrashReport[] = [];
    a.onCrash((r) => reports.push(r));
    const sup = await a.supervise({
      id: 'circ', onExhausted: 'open-circuit', intensity: { maxRestarts: 0, withinMs: 60_000 },
      circuit: { resetMs: 1000, maxResetMs: 1000, multiplier: 1 },
      children: [{ id: 'owned-c', actor: account, failover: true }],
    });
    const status = () => sup.children()[0]!.status;
    const ref = (await until('b finds owned-c', () => b.lookup('owned-c'), 5000)) as ActorRef<typeof account>;
    await b.send(ref, 'deposit', 1, { messageId: 'c/0' });
    // Journaled right behind each other: the crash opens the circuit before the next two are handed over.
    b.tell(ref, 'boom');
    b.tell(ref, 'boom');
    await b.send(ref, 'deposit', 1, { messageId: 'c/1' });
    await until('the circuit opened', () => reports.length === 1 && status() === 'circuit-open', 10_000);
    expect(reports[0]!.decision).toBe('open-circuit');
    await until('the second boom and c/1 wait', () => clusterOf(a).failover.stats()['owned-c']!.queued === 2, 10_000, 10);
    // The trial is the second boom: it crashes, the circuit reopens; c/1 still waits.
    await until('the trial failed', () => reports.length === 2, 20_000);
    expect(reports[1]!.decision).toBe('reopen-circuit');
    expect(clusterOf(a).failover.stats()['owned-c']!.queued).toBe(1);
    // The next trial is c/1: handled, the circuit closes, and what comes after flows again.
    await until('the circuit closed', () => status() === 'running', 20_000);
    await b.send(ref, 'deposit', 1, { messageId: 'c/2' });
    expect((await b.ask(ref, 'state', undefined, { timeoutMs: 10_000 })).ids).toEqual(['c/0', 'c/1', 'c/2']);
    expect(reports).toHaveLength(2);
  }, 60_000);

  it('a bounded mailbox is a window: a burst is handed over a few at a time, none dropped, in order; a survivor keeps the window', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => suite.node(n, { name: 'window' })));
    await a.supervise({ id: 'w', children: [{ id: 'windowed', actor: account, failover: true, mailbox: { kind: 'bounded', capacity: 3, overflow: 'drop' } }] });
    const ref = (await until('c finds windowed', () => c.lookup('windowed'), 5000)) as ActorRef<typeof account>;
    // 40 acknowledged sends from c at once, while the hosting node's incarnation mailbox depth is watched.
    const burst = async (host: Runtime, round: string) => {
      const ids = Array.from({ length: 40 }, (_, i) => `${round}/${i}`);
      let deepest = 0;
      let heldBack = 0;
      let done = false;
      const watcher = (async () => {
        while (!done) {
          const s = clusterOf(host).failover.stats().windowed;
          if (s !== undefined) {
            heldBack = Math.max(heldBack, s.queued);
            const inc = await host.inspect(`windowed~${s.revision}`, { state: false });
            deepest = Math.max(deepest, inc?.mailboxDepth ?? 0);
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      await Promise.all(ids.map((messageId) => c.send(ref, 'slowDeposit', 1, { messageId })));
      const state = await until(`${round}: all 40 applied`, async () => {
        const st = await c.ask(ref, 'state', undefined, { timeoutMs: 10_000 });
        return st.ids.includes(ids[39]!) && st;
      }, 60_000, 100);
      done = true;
      await watcher;
      expect(state.ids.slice(-40)).toEqual(ids); // none dropped, in order
      expect(heldBack).toBeGreaterThan(3); // the rest waited on the node, not in the mailbox
      expect((await host.stats()).deadLetters['mailbox-full'] ?? 0).toBe(0);
      return deepest;
    };
    // Supervised on a: one message at a time (its supervisor sees each crash before the next is handled).
    expect(clusterOf(a).failover.stats().windowed?.window).toBe(1);
    expect(await burst(a, 'a')).toBeLessThanOrEqual(2); // one message and its barrier
    // a leaves: a survivor hosts it outside any tree, with its own window (kept in its registry record).
    await a.shutdown();
    const survivor = await until('a survivor hosts windowed', () => [b, c].find((rt) => clusterOf(rt).failover.stats().windowed !== undefined), 30_000, 100);
    expect(clusterOf(survivor).failover.stats().windowed?.window).toBe(3);
    // The window (3), its barrier, and the barrier that ends the replay of the journal at takeover (it may still run).
    expect(await burst(survivor, 'b')).toBeLessThanOrEqual(5);
    expect((await c.ask(ref, 'state')).total).toBe(80);
  }, 120_000);

  it('a priority mailbox is refused (the journal order is the order of application): spawnFailover and a tree alike', async () => {
    const c = await suite.node('c', { name: 'prio' });
    const priority = { kind: 'priority' as const, priorities: { deposit: 5 } };
    await expect(spawnFailover(c, account, { id: 'p1', mailbox: priority })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(c.supervise({ id: 't', children: [{ id: 'p2', actor: account, failover: true, mailbox: priority }] })).rejects.toBeInstanceOf(InvalidSupervisorOptionError);
    expect(clusterOf(c).failover.hostedIds()).toEqual([]);
  });
});
