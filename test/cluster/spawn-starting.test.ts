import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { clusterOf, NodeLostError, SpawnTimeoutError } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { notebook } from './fixtures.ts';

// A node that has joined (it heartbeats) but does not take spawns yet: it is still starting. Here it is made so
// by closing its spawner (what a node is between its join and the end of Runtime.start).
describe.skipIf(noNats)('spawning on a node that is still starting', () => {
  let nats: NatsServer;
  let a: Runtime;
  let q: Runtime;
  beforeAll(async () => {
    nats = await NatsServer.start();
    const cluster = { servers: nats.url, heartbeatTtlS: 2, heartbeatEveryMs: 200, spawnTimeoutMs: 1500 };
    a = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'qa' } });
    q = await Runtime.start({ workers: 0, cluster: { ...cluster, node: 'qq' } });
    await until('qa sees qq', () => clusterOf(a).members().includes('qq'), 10_000);
  });
  afterAll(async () => {
    await q?.shutdown();
    await a?.shutdown();
    await nats?.stop();
  });

  it('a named node is asked again until it takes spawns; one that never does within the timeout is SpawnTimeoutError', async () => {
    clusterOf(q).spawner.close();
    const never: any = await a.spawn(notebook, { id: 'never', node: 'qq' }).catch((e: unknown) => e);
    expect(never).toBeInstanceOf(SpawnTimeoutError);
    expect(never.code).toBe('ERR_SPAWN_TIMEOUT');
    expect(never.message).toContain('did not start taking spawns');
    expect(never.details.node).toBe('qq');

    // It starts taking spawns while the spawn waits: the spawn lands there.
    const spawning = a.spawn(notebook, { id: 'late', node: 'qq' });
    await new Promise((r) => setTimeout(r, 200));
    clusterOf(q).spawner.start(q);
    const ref = await spawning;
    expect(ref.id).toBe('late');
    expect(q.localRef('late')).toBeDefined();
    expect(await a.ask(ref, 'count')).toBe(0);
  });

  it('placement passes over such a node at once (no wait): the spawn lands elsewhere', async () => {
    clusterOf(q).spawner.close();
    try {
      for (let i = 0; i < 4; i++) {
        const ref = await a.spawn(notebook, { id: `spread-${i}`, placement: 'least-loaded' });
        expect(a.localRef(ref.id)).toBeDefined();
      }
    } finally {
      clusterOf(q).spawner.start(q);
    }
    // Not the node-lost kind of refusal either: qq is alive and named spawns reach it again.
    const back = await a.spawn(notebook, { id: 'back', node: 'qq' }).catch((e: unknown) => e);
    expect(back).not.toBeInstanceOf(NodeLostError);
    expect(q.localRef('back')).toBeDefined();
  });
});
