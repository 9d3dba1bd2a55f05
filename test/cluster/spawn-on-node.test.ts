import '../../router/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefinitionLoadError, defineActor, DuplicateActorIdError, InvalidSpawnOptionError, Runtime } from '../../runtime/index.ts';
import { clusterOf, InvalidClusterOptionError, NodeLostError, SpawnTimeoutError, UnknownNodeError } from '../../cluster/index.ts';
import { NodeProcess } from './support/node-process.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { notebook, relay } from './fixtures.ts';

/** Not exported: a node asked to spawn it cannot find it in its module. */
const hidden = defineActor({ kind: 'hidden', init: () => ({}), handlers: { ping: () => 'pong' } });

describe.skipIf(noNats)('spawning on other nodes', () => {
  let nats: NatsServer;
  let a: Runtime;
  let b: Runtime;
  let c: Runtime;
  const started: Runtime[] = [];
  const start = async (node: string, workers: number, extra: Record<string, unknown> = {}) => {
    const rt = await Runtime.start({ workers, cluster: { servers: nats.url, node, heartbeatTtlS: 2, heartbeatEveryMs: 200, ...extra } });
    started.push(rt);
    return rt;
  };

  beforeAll(async () => {
    nats = await NatsServer.start();
    a = await start('sa', 1);
    b = await start('sb', 2);
    c = await start('sc', 0);
    // Everyone has seen everyone's record (placement reads them).
    await until('the nodes see each other', () => [a, b, c].every((rt) => clusterOf(rt).spawner.loads().size === 3), 10_000);
  });
  afterAll(async () => {
    for (const rt of started.reverse()) await rt.shutdown();
    await nats?.stop();
  });

  it("spawn(def, { node }) starts it on that node; the ref works from every node and every thread", async () => {
    const ref = await a.spawn(notebook, { id: 'on-b', node: 'sb', args: undefined });
    expect(ref).toEqual({ id: 'on-b', kind: 'notebook', node: 0 });
    expect(await b.inspect('on-b')).toBeDefined(); // hosted by b...
    expect(await a.inspect('on-b')).toBeUndefined(); // ...not by a
    a.tell(ref, 'note', 'from a');
    c.tell(JSON.parse(JSON.stringify(ref)), 'note', 'from c');
    await until('both notes arrived', async () => (await b.ask(ref, 'count')) === 2, 10_000);
    // From an actor on a worker of a, with the ref in a message.
    const r = await a.spawn(relay, { id: 'relay-a', pin: 1 });
    expect(await a.ask(r, 'askIt', { to: ref, text: 'from a worker' })).toBe(3);
    expect((await c.lookup('on-b'))?.id).toBe('on-b');
    await b.stop((await b.lookup('on-b'))!);
  });

  it('two spawns of one id at once on one node: one actor, the other a DuplicateActorIdError', async () => {
    const both = await Promise.allSettled([b.spawn(notebook, { id: 'twice' }), b.spawn(notebook, { id: 'twice' })]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(DuplicateActorIdError);
    const stats = await b.stats();
    expect(stats.nodes.flatMap((n) => n.actors).filter((x) => x.id === 'twice')).toHaveLength(1);
    await b.stop((await b.lookup('twice'))!);
  });

  it('capabilities and args travel with the spawn; an id taken on any node is a DuplicateActorIdError', async () => {
    const ref = await c.spawn(notebook, { id: 'book-caps', node: 'sb', capabilities: ['notes'] });
    expect(b.capabilities('notes').map((m) => m.id)).toContain('book-caps');
    await a.spawn(notebook, { id: 'taken-on-a' });
    await expect(c.spawn(notebook, { id: 'taken-on-a', node: 'sb' })).rejects.toBeInstanceOf(DuplicateActorIdError);
    await expect(c.spawn(notebook, { id: 'book-caps', node: 'sa' })).rejects.toBeInstanceOf(DuplicateActorIdError);
    expect(await a.ask(ref, 'count')).toBe(0);
  });

  it('an unknown node is UnknownNodeError, a node that left is NodeLostError; bad combinations are refused', async () => {
    const err: any = await a.spawn(notebook, { node: 'no-such-node' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownNodeError);
    expect(err.code).toBe('ERR_UNKNOWN_NODE');
    expect(err.details.node).toBe('no-such-node');
    const d = await start('sd', 0);
    await until('a sees sd', () => clusterOf(a).members().includes('sd'), 10_000);
    await d.shutdown();
    await until('a sees sd leave', () => !clusterOf(a).members().includes('sd'), 10_000);
    const down: any = await a.spawn(notebook, { node: 'sd' }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(NodeLostError);
    expect(down.code).toBe('ERR_NODE_LOST');
    await expect(a.spawn(notebook, { node: 'sb', pin: 1 })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(a.spawn(notebook, { node: 'sb', placement: 'local' })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(a.spawn(notebook, { node: 'not a node id' })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(a.spawn(notebook, { placement: 'nearest' as never })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(start('sx', 0, { placement: 'nearest' })).rejects.toBeInstanceOf(InvalidClusterOptionError);
    await expect(start('sx', 0, { spawnTimeoutMs: 0 })).rejects.toBeInstanceOf(InvalidClusterOptionError);
    // The target's own errors come back with their class.
    const load: any = await a.spawn(hidden, { node: 'sb', id: 'hidden-1' }).catch((e: unknown) => e);
    expect(load).toBeInstanceOf(DefinitionLoadError);
    expect(load.message).toContain("no actor definition of kind 'hidden' (on node sb)");
    expect(await c.lookup('hidden-1')).toBeUndefined();
    // The runtime goes on: a spawn on this node by name is a local spawn.
    const here = await a.spawn(notebook, { node: 'sa' });
    expect(await a.inspect(here.id)).toBeDefined();
  });

  it('a node that does not answer in time is SpawnTimeoutError; the actor may still start there', async () => {
    const f = await start('sf', 0, { spawnTimeoutMs: 800 });
    const p = await NodeProcess.start('sp', { servers: nats.url, heartbeatTtlS: 2, heartbeatEveryMs: 200 });
    try {
      await until('f sees sp', () => clusterOf(f).members().includes('sp'), 20_000);
      p.signal('SIGSTOP'); // alive for the TTL (2 s), answering nothing
      const err: any = await f.spawn(notebook, { id: 'late-1', node: 'sp' }).catch((e: unknown) => e);
      p.signal('SIGCONT');
      expect(err).toBeInstanceOf(SpawnTimeoutError);
      expect(err.code).toBe('ERR_SPAWN_TIMEOUT');
      expect(err.details.node).toBe('sp');
      // Resumed, sp takes the request it had not read: the actor starts there after all, and answers.
      await until('late-1 started on sp and answers', async () => (await f.ask({ id: 'late-1', kind: 'notebook', node: 0 }, 'count').catch(() => -1)) === 0, 10_000);
    } finally {
      await p.kill();
      await f.shutdown();
    }
  });

  it('the node option without a cluster is refused; least-loaded placement alone is a local spawn', async () => {
    const solo = await Runtime.start({ workers: 0 });
    try {
      await expect(solo.spawn(notebook, { node: 'sb' })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
      const ref = await solo.spawn(notebook, { placement: 'least-loaded' });
      expect(await solo.ask(ref, 'count')).toBe(0);
    } finally {
      await solo.shutdown();
    }
  });

  it("placement 'least-loaded' sends new actors to the nodes hosting fewest, spreading a burst", async () => {
    const e = await start('se', 1, { placement: 'least-loaded' });
    const alive = () => [...clusterOf(e).spawner.loads()].filter(([, l]) => l.alive).map(([n]) => n).sort().join();
    await until('e sees the live nodes (and no more)', () => alive() === 'sa,sb,sc,se', 10_000);
    // The others host a few actors already; e hosts none and fills up first, then everyone shares.
    const count = (rt: Runtime) => clusterOf(rt).spawner.loads().get(clusterOf(rt).nodeId)!.actors;
    // From here only e's spawns change the loads: e's view (the others' heartbeats) is current first.
    await until("e's view of the loads is current", () => [a, b, c].every((rt) => clusterOf(e).spawner.loads().get(clusterOf(rt).nodeId)?.actors === count(rt)), 10_000);
    const before = [a, b, c, e].map(count);
    const refs = [];
    for (let i = 0; i < 12; i++) refs.push(await e.spawn(notebook, { id: `spread-${i}` }));
    const after = [a, b, c, e].map(count);
    const added = after.map((n, i) => n - before[i]);
    expect(added.reduce((x, y) => x + y, 0)).toBe(12);
    // Every node got what brings it closest to level (a spawn counts on top of the target's heartbeat until a
    // heartbeat shows it), and the spawning node did not keep them all.
    expect(Math.max(...after) - Math.min(...after), `before ${before}, after ${after}`).toBeLessThanOrEqual(1);
    expect(added[3]).toBeLessThan(12);
    expect(added[2]).toBeGreaterThan(0);
    for (const ref of refs) expect(await e.ask(ref, 'count')).toBe(0);
    // A spawn option overrides the cluster's default.
    const local = await e.spawn(notebook, { placement: 'local' });
    expect(await e.inspect(local.id)).toBeDefined();
  });
});
