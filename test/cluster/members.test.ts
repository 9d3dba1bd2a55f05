import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemberTable } from '../../cluster/members.ts';
import { NodeRegistry } from '../../cluster/nodes.ts';
import { systemClock } from '../../runtime/clock.ts';
import type { DirectoryChange } from '../../runtime/directory.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The capability table against a real bucket: this node's member under an id another node's stale record names. */
describe.skipIf(noNats)('the members table and a stale record of another node', () => {
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('a local member whose id a stale record of another node names is published, and stays in the directory', async () => {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('stale_members', { history: 1 });
    const nodes = new NodeRegistry(await kvm.create('stale_nodes', { history: 1 }), 'a', 60_000, 60_000, systemClock, () => 0);
    const table = new MemberTable(kv, 'a', nodes, () => true, () => false, 3_600_000);
    const applied: DirectoryChange[] = [];
    table.attach((c) => applied.push(c));
    await table.watch(() => Date.now());
    const theirs = { node: 'b', kind: 'notebook', capabilities: ['x'], phase: 'running' };
    const owner = async () => ((await kv.get('m'))?.operation === 'PUT' ? (await kv.get('m'))!.json<{ node: string }>().node : undefined);
    try {
      await kv.put('m', json(theirs));
      await until('b\'s member is applied here', () => applied.some((c) => c[0] === 'join' && c[1] === 'm' && c[3] === 0), 5000);
      applied.length = 0;
      // 'm' stopped on b and is now this node's (its registry key was freed and claimed here); b's record is stale.
      table.changed(['join', 'm', 'notebook', 1, ['x'], 'running']);
      await until('this node\'s record replaces the stale one', async () => (await owner()) === 'a', 5000);
      // b's late delete, then a late write of its old record: this node's record comes back, its member stays.
      await kv.delete('m');
      await until('written again after the stale delete', async () => (await owner()) === 'a', 5000);
      await kv.put('m', json(theirs));
      await kv.put('other', json(theirs));
      await until('the next change is seen', () => applied.some((c) => c[1] === 'other'), 5000);
      expect(applied.filter((c) => c[1] === 'm')).toEqual([]);
    } finally {
      await table.close();
    }
  });
});
