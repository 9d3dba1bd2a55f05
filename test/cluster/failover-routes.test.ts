import '../../router/index.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { clusterOf, spawnFailover } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { account, capableAccount } from './failover-actors.ts';

/**
 * A failover actor offering capabilities is a member of the capability table under its public id, on every node:
 * a route reaches it through its journal. Its incarnation (a local id) used to be the member on its own node, so a
 * route there went straight to the incarnation, past the journal (not durable, not replayed by a new owner), and
 * the other nodes did not see it at all.
 */
describe.skipIf(noNats)('failover actors: routes by capability, and answers to journaled asks', () => {
  let nats: NatsServer;
  const runtimes: Runtime[] = [];
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    for (const r of runtimes) await r.shutdown();
    await nats?.stop();
  });

  it('reach it by capability from every node, each routed message journaled; it leaves the table when stopped', async () => {
    const cluster = { servers: nats.url, name: 'routes', heartbeatTtlS: 2 };
    const a = await Runtime.start({ workers: 1, cluster: { ...cluster, node: 'a' } });
    const b = await Runtime.start({ workers: 1, cluster: { ...cluster, node: 'b' } });
    runtimes.push(a, b);
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
    const cluster = { servers: nats.url, name: 'asker', heartbeatTtlS: 2 };
    const x = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'x' } });
    runtimes.push(x);
    await spawnFailover(x, account, { id: 'fa' });
    const first = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'q' } });
    const ref = (await until('q finds fa', () => first.lookup('fa'), 5000))!;
    // Journaled; answered in 1.5 s, when the process that asked is gone.
    const old = first.ask(ref, 'echoAfter', { ms: 1500, value: 'old' }, { timeoutMs: 10_000 }).catch(() => 'rejected');
    await until('fa took the first ask', () => clusterOf(x).failover.stats().fa?.applied === 1, 5000, 10);
    await first.shutdown();
    expect(await old).toBe('rejected');
    const next = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'q' } });
    runtimes.push(next);
    expect(await next.ask(ref, 'echoAfter', { ms: 0, value: 'new' }, { timeoutMs: 10_000 })).toBe('new');
  }, 30_000);
});
