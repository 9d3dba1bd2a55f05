import { describe, expect, it } from 'vitest';
import { Runtime, DuplicateActorIdError } from '../../runtime/index.ts';
import { ClusterUnreachableError, InvalidClusterOptionError, NodeIdTakenError, spawnFailover } from '../../cluster/index.ts';
import { InvalidSpawnOptionError } from '../../runtime/errors.ts';
import { account } from './failover-actors.ts';
import { freePort, until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { notebook } from './fixtures.ts';

describe.skipIf(noNats)('joining a cluster', () => {
  const suite = clusterSuite();
  const start = (node: string, extra: Record<string, unknown> = {}, workers = 0) => suite.node(node, extra, { workers });

  it('fails at once with the address when NATS is unreachable', async () => {
    const port = await freePort(); // nobody listens there
    const t0 = Date.now();
    const err = await Runtime.start({ workers: 0, cluster: { servers: `nats://127.0.0.1:${port}`, node: 'lonely', connectTimeoutMs: 1000 } }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterUnreachableError);
    expect(err.code).toBe('ERR_CLUSTER_UNREACHABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - t0).toBeLessThan(20_000); // no hang (a generous bound, not a timing figure)
  });

  it('rejects bad cluster options with a named error', async () => {
    for (const cluster of [{ servers: suite.nats.url, node: 'bad node' }, { servers: [], node: 'n' }, { servers: suite.nats.url, node: 'n', heartbeatTtlS: 0 }, { servers: suite.nats.url, node: 'n', nope: 1 }]) {
      await expect(Runtime.start({ workers: 0, cluster: cluster as never })).rejects.toBeInstanceOf(InvalidClusterOptionError);
    }
  });

  it('refuses a node id a live node already has', async () => {
    await start('taken');
    const err = await Runtime.start({ workers: 0, cluster: { servers: suite.nats.url, node: 'taken' } }).catch((e) => e);
    expect(err).toBeInstanceOf(NodeIdTakenError);
    expect(err.message).toContain("'taken'");
  });

  it('keeps actor ids unique across nodes and finds actors of other nodes', async () => {
    const a = await start('ida');
    const b = await start('idb');
    const ref = await a.spawn(notebook, { id: 'unique-1' });
    await expect(b.spawn(notebook, { id: 'unique-1' })).rejects.toBeInstanceOf(DuplicateActorIdError);
    const found = await b.lookup('unique-1');
    expect(found?.id).toBe('unique-1');
    expect(found?.kind).toBe('notebook');
    await a.stop(ref);
    // Released once it stopped: the other node may take the id now (the release reaches the bucket shortly).
    await until('the id is free again', async () => b.spawn(notebook, { id: 'unique-1' }).then(() => true, () => false), 10_000);
    expect(await a.lookup('unique-1')).toMatchObject({ id: 'unique-1' });
  });

  it('rejects a bad snapshotEvery of a failover actor with a named error, and claims nothing', async () => {
    const rt = await start('snapbad');
    for (const snapshotEvery of [-1, 2.5, Number.NaN, '10']) {
      await expect(spawnFailover(rt, account, { id: 'snap-bad', snapshotEvery: snapshotEvery as number })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    }
    const ref = await spawnFailover(rt, account, { id: 'snap-bad', snapshotEvery: 0 }); // the id was not taken
    expect((await rt.ask(ref, 'state')).total).toBe(0);
  });

  it('without the cluster options the runtime is a single process (no NATS touched)', async () => {
    const rt = await Runtime.start({ workers: 0 });
    const ref = await rt.spawn(notebook, { id: 'unique-1' }); // the same id lives in the cluster: not this runtime's concern
    expect(await rt.ask(ref, 'count')).toBe(0);
    await rt.shutdown();
  });
});
