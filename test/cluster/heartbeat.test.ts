import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry, type NodeRecord } from '../../cluster/nodes.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { NatsServer, noNats } from './support/nats.ts';

/**
 * The node heartbeat against a real KV bucket. A heartbeat that failed at a stale revision and then found the key
 * held took the node's identity as lost for good: when two beats overlapped (a slow one and the next timer tick, or
 * the fence's own beat), the loser read the winner's write as another process's, and the node never confirmed its
 * lease again: its failover actors applied nothing more (a third of 1,000 actors stalled after a failover).
 */
describe.skipIf(noNats)('node heartbeats', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  let n = 0;
  const registries: NodeRegistry[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    kv = await new Kvm(nc).create('troupe_hb_nodes', { ttl: 60_000, history: 1 });
  });
  afterAll(async () => {
    for (const r of registries) await r.leave();
    await nc?.close();
    await nats?.stop();
  });

  /** A joined node whose own timer never beats (the test beats it), on a clock the test moves. */
  async function joined() {
    const clock = new ManualClock();
    const node = `hb-${++n}`;
    const registry = new NodeRegistry(kv, node, 60_000, 3_600_000, clock, () => 0);
    registries.push(registry);
    await registry.join();
    return { registry, clock, node };
  }

  /** Does a beat asked for now confirm the lease (the node still believes it is itself)? */
  async function confirms(registry: NodeRegistry, clock: ManualClock): Promise<boolean> {
    clock.advance(1000);
    await registry.beat();
    return registry.confirmedAt === clock.now();
  }

  it('overlapping beats leave the node itself: later beats still confirm its lease', async () => {
    const { registry, clock } = await joined();
    for (let round = 0; round < 5; round++) {
      clock.advance(1000);
      await Promise.all([registry.beat(), registry.beat(), registry.beat()]);
      expect(await confirms(registry, clock), `round ${round}`).toBe(true);
    }
  });

  it('a beat the server applied but whose reply was lost is recognised as its own write', async () => {
    const { registry, clock, node } = await joined();
    // What the server holds after an update whose reply never arrived: this node's own record, one revision on.
    const held = (await kv.get(node))!;
    await kv.put(node, held.value);
    expect(await confirms(registry, clock)).toBe(true);
    expect(await confirms(registry, clock)).toBe(true);
  });

  it('a node id taken by another process meanwhile is given up (and stays given up)', async () => {
    const { registry, clock, node } = await joined();
    const other: NodeRecord = { node, pid: 1, joinedAt: 1, actors: 0, incarnation: 'another process' };
    await kv.put(node, new TextEncoder().encode(JSON.stringify(other)));
    expect(await confirms(registry, clock)).toBe(false);
    expect(await confirms(registry, clock)).toBe(false);
    expect((await kv.get(node))!.json<NodeRecord>().incarnation).toBe('another process');
  });
});
