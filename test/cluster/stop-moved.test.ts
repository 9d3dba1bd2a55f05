import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../actors/define.ts';
import { type TerminationNotice } from '../../runtime/index.ts';
import { clusterOf, spawnFailover } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { account } from './failover-actors.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** Stops of failover actors through refs that are stale: the actor moved, or its node died and nobody hosts it yet. */
describe.skipIf(noNats)('a stop of a failover actor that moved or that nobody hosts', () => {
  const suite = clusterSuite();

  it('a ref taken while it lived on a node that left: the stop reaches the node hosting it now', async () => {
    const a = await suite.node('a', { name: 'moved' });
    const b = await suite.node('b', { name: 'moved' });
    const c = await suite.node('c', { name: 'moved' });
    await spawnFailover(a, account, { id: 'mv-1' });
    const stale = (await until('c finds mv-1', () => c.lookup('mv-1'), 5000)) as ActorRef<typeof account>;
    await c.send(stale, 'deposit', 1, { messageId: 'mv/0' });
    await a.shutdown();
    const host = await until('a survivor hosts mv-1', () => [b, c].find((rt) => clusterOf(rt).failover.hostedIds().includes('mv-1')), 30_000, 100);
    const notices: TerminationNotice[] = [];
    b.watch(stale, (n) => notices.push(n));
    await c.stop(stale);
    expect(clusterOf(host).failover.hostedIds()).toEqual([]);
    await until('b is told it stopped', () => notices.length === 1, 10_000);
    expect(notices[0]!.reason).toBe('stopped');
    await until('mv-1 is in no registry', async () => (await b.lookup('mv-1')) === undefined && (await c.lookup('mv-1')) === undefined, 10_000);
  }, 60_000);

  it('its node gone and nobody hosting it yet: the stop deletes its key, so nobody adopts it', async () => {
    const name = 'orphan';
    const b = await suite.node('b', { name });
    const kv = await new Kvm(clusterOf(b).nc).open(`troupe_${name}_actors`);
    // Two failover actors of a node that is gone (it has no node record): the survivor adopts the one not stopped.
    const record = { node: 'gone', kind: account.kind, failover: { module: account.module, args: undefined } };
    await kv.put('orphan-stopped', json(record));
    await kv.put('orphan-kept', json(record));
    const ref = { id: 'orphan-stopped', kind: account.kind, node: 0 } as ActorRef<typeof account>;
    const notices: TerminationNotice[] = [];
    b.watch(ref, (n) => notices.push(n));
    await b.stop(ref);
    expect(notices.map((n) => n.reason)).toEqual(['stopped']);
    expect(await kv.get('orphan-stopped').then((e) => e?.operation)).not.toBe('PUT');
    // The sweep ran past the adoption of its sibling: the stopped one was not adopted.
    await until('b adopts orphan-kept', () => clusterOf(b).failover.hostedIds().includes('orphan-kept'), 30_000, 100);
    expect(clusterOf(b).failover.hostedIds()).toEqual(['orphan-kept']);
    await expect(b.ask(ref, 'state', undefined, { timeoutMs: 2000 })).rejects.toThrow();
  }, 60_000);
});
