import '../../router/index.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { clusterOf, spawnFailover } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { account, capableAccount } from './failover-actors.ts';

/**
 * A failover actor offering capabilities is a member of the capability table under its public id, on every node:
 * a route reaches it through its journal. Its incarnation (a local id) used to be the member on its own node, so a
 * route there went straight to the incarnation, past the journal (not durable, not replayed by a new owner), and
 * the other nodes did not see it at all.
 */
describe.skipIf(noNats)('failover actors: routes by capability, and answers to journaled asks', () => {
  const suite = clusterSuite();

  it('reach it by capability from every node, each routed message journaled; it leaves the table when stopped', async () => {
    const a = await suite.node('a', { name: 'routes' }, { workers: 1 });
    const b = await suite.node('b', { name: 'routes' }, { workers: 1 });
    const ref = await spawnFailover(a, capableAccount, { id: 'ca-1' });
    const members = (rt: Runtime) => rt.capabilities('accounts').map((m) => m.id);
    await until('both nodes list ca-1 as the member', () => members(a).join() === 'ca-1' && members(b).join() === 'ca-1', 5000);
    const jsm = await jetstreamManager(clusterOf(a).nc);
    const subject = 'troupe.routes.journal.ca-1';
    const journaled = async () => (await jsm.streams.info('troupe_routes_journal', { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    const route = { capability: 'accounts' };
    await a.send(route, 'deposit', 1, { messageId: 'r-a' });
    await b.send(route, 'deposit', 2, { messageId: 'r-b' });
    expect(await journaled()).toBe(2);
    expect(await a.ask(route, 'total')).toBe(3);
    expect(await b.ask(route, 'total')).toBe(3);
    await b.stop(ref);
    await until('ca-1 left both tables', () => members(a).length === 0 && members(b).length === 0, 5000);
  }, 30_000);

  it('an answer to a journaled ask of a process that is gone is not taken by the next process with its node id', async () => {
    const cluster = { servers: suite.nats.url, name: 'asker', heartbeatTtlS: 2 };
    const x = await suite.node('x', { name: 'asker' });
    await spawnFailover(x, account, { id: 'fa' });
    const first = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'q' } });
    const ref = (await until('q finds fa', () => first.lookup('fa'), 5000))!;
    // Journaled; answered in 1.5 s, when the process that asked is gone.
    const old = first.ask(ref, 'echoAfter', { ms: 1500, value: 'old' }, { timeoutMs: 10_000 }).catch(() => 'rejected');
    await until('fa took the first ask', () => clusterOf(x).failover.stats().fa?.applied === 1, 5000, 10);
    await first.shutdown();
    expect(await old).toBe('rejected');
    const next = await suite.node('q', { name: 'asker' });
    expect(await next.ask(ref, 'echoAfter', { ms: 0, value: 'new' }, { timeoutMs: 10_000 })).toBe('new');
  }, 30_000);
});
