import '../../router/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { NodeProcess } from './support/node-process.ts';
import { notebook, relay } from './fixtures.ts';

describe.skipIf(noNats)("the router's capability table across nodes", () => {
  let nats: NatsServer;
  let a: Runtime;
  let b: Runtime;
  const others: Runtime[] = [];
  const cluster = (node: string) => ({ servers: nats.url, node, heartbeatTtlS: 2, heartbeatEveryMs: 300 });
  const ids = (rt: Runtime, cap: string) => rt.capabilities(cap).map((m) => m.id).sort();

  beforeAll(async () => {
    nats = await NatsServer.start();
    a = await Runtime.start({ workers: 2, cluster: cluster('ca') });
    b = await Runtime.start({ workers: 1, cluster: cluster('cb') });
  });
  afterAll(async () => {
    for (const rt of [a, b, ...others]) await rt?.shutdown();
    await nats?.stop();
  });

  it('a route from one node finds the actors offering the capability on another, from every thread', async () => {
    const s1 = await b.spawn(notebook, { id: 'sum-1', capabilities: ['summarize'] });
    const s2 = await b.spawn(notebook, { id: 'sum-2', capabilities: ['summarize'], pin: 0 });
    await until('a sees both members', () => ids(a, 'summarize').join() === 'sum-1,sum-2', 10_000);
    expect(a.capabilities('summarize').every((m) => m.health === 'healthy')).toBe(true);
    expect(await a.ask({ capability: 'summarize' }, 'echo', 'routed')).toBe('routed');
    // Round-robin from a's main thread reaches both of b's members.
    for (let i = 0; i < 20; i++) await a.ask({ capability: 'summarize', strategy: 'round-robin' }, 'note', `r${i}`);
    const [n1, n2] = [await b.ask(s1, 'count'), await b.ask(s2, 'count')];
    expect(n1 + n2).toBe(20);
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBeGreaterThan(0);
    // From an actor on a worker of a: the route in a message, keyed (one member for the key).
    const r = await a.spawn(relay, { id: 'relay-cap', pin: 2 });
    const keyed = { capability: 'summarize', key: 'conversation-7' };
    const before = await a.ask(keyed, 'count');
    expect(await a.ask(r, 'askIt', { to: keyed as never, text: 'from a worker' })).toBe(before + 1);
    // The other direction too: b's routes see a's members.
    await a.spawn(notebook, { id: 'sum-a', capabilities: ['summarize-a'] });
    await until('b sees a member of a', () => ids(b, 'summarize-a').join() === 'sum-a', 10_000);
    expect(await b.ask({ capability: 'summarize-a' }, 'count')).toBe(0);
  });

  it('pools on two nodes offering one capability: a route from either node spreads over both pools', async () => {
    const pa = await a.pool(notebook, { id: 'pool-a', min: 2, max: 2, capabilities: ['shared-work'], scale: false });
    const pb = await b.pool(notebook, { id: 'pool-b', min: 2, max: 2, capabilities: ['shared-work'], scale: false });
    await until('each node sees all four members', () => ids(a, 'shared-work').length === 4 && ids(b, 'shared-work').length === 4, 10_000);
    const route = { capability: 'shared-work', strategy: 'round-robin' };
    for (let i = 0; i < 16; i++) await a.ask(route, 'note', `w${i}`);
    const counts = await Promise.all([...pa.memberIds().map((id) => a.ask({ id, kind: 'notebook', node: 0 }, 'count')), ...pb.memberIds().map((id) => b.ask({ id, kind: 'notebook', node: 0 }, 'count'))]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(16);
    expect(counts.every((n) => n > 0)).toBe(true);
    // The pool's own route stays its node's: pool:<id> is offered by its members only.
    expect(ids(a, 'pool:pool-b')).toEqual(pb.memberIds().slice().sort());
  });

  it("a remote member's health travels: draining and open circuits are steered around, a stopped one leaves", async () => {
    const healthy = await a.spawn(notebook, { id: 'tool-a', capabilities: ['tool'] });
    const sup = await b.supervise({
      id: 'tools-b', onExhausted: 'open-circuit', intensity: { maxRestarts: 1, withinMs: 60_000 }, circuit: { resetMs: 60_000 },
      children: [{ id: 'tool-b', actor: notebook, capabilities: ['tool'] }],
    });
    await until('a sees tool-b', () => ids(a, 'tool').join() === 'tool-a,tool-b', 10_000);
    const toolB = (await b.lookup('tool-b'))!;
    for (let i = 0; i < 3; i++) b.tell(toolB, 'fail', `crash ${i}`);
    await until("a sees tool-b's circuit open", () => a.capabilities('tool').find((m) => m.id === 'tool-b')?.health === 'open', 10_000);
    const refusedBefore = (await b.stats({ actors: false })).deadLetters['circuit-open'] ?? 0;
    for (let i = 0; i < 20; i++) await a.ask({ capability: 'tool', strategy: 'round-robin' }, 'note', `t${i}`);
    expect(await a.ask(healthy, 'count')).toBe(20); // every one went to the healthy member...
    expect((await b.stats({ actors: false })).deadLetters['circuit-open'] ?? 0).toBe(refusedBefore); // ...none was refused on b
    await sup.stop();
    await until('tool-b left a', () => ids(a, 'tool').join() === 'tool-a', 10_000);

    const d = await b.spawn(notebook, { id: 'drain-b', capabilities: ['drain'] });
    await a.spawn(notebook, { id: 'drain-a', capabilities: ['drain'] });
    await until('a sees drain-b', () => ids(a, 'drain').length === 2, 10_000);
    b.withdraw('drain-b');
    await until('a sees drain-b draining', () => a.capabilities('drain').find((m) => m.id === 'drain-b')?.health === 'draining', 10_000);
    for (let i = 0; i < 10; i++) await a.ask({ capability: 'drain', strategy: 'round-robin' }, 'note', `d${i}`);
    expect(await b.ask(d, 'count')).toBe(0);
  });

  it('the members of a node that leaves go at once; those of a killed node once its heartbeat expires', async () => {
    const c = await Runtime.start({ workers: 0, cluster: cluster('cc') });
    await c.spawn(notebook, { id: 'leaver', capabilities: ['transient'] });
    await until('a sees the member of c', () => ids(a, 'transient').join() === 'leaver', 10_000);
    await c.shutdown();
    await until('it left with its node', () => ids(a, 'transient').length === 0, 3_000);

    const k = await NodeProcess.start('ck', { servers: nats.url, heartbeatTtlS: 2, heartbeatEveryMs: 300 });
    try {
      await k.request('spawnMember', { id: 'doomed', capabilities: ['transient'] });
      await until('a and b see the member of k', () => ids(a, 'transient').join() === 'doomed' && ids(b, 'transient').join() === 'doomed', 20_000);
      expect(await a.ask({ capability: 'transient' }, 'count')).toBe(0);
      await k.kill();
      await until('a and b drop it', () => ids(a, 'transient').length === 0 && ids(b, 'transient').length === 0, 15_000);
    } finally {
      await k.kill();
    }
    // A node paused past its TTL: the others drop its members, and it writes them again once it runs again.
    const p = await NodeProcess.start('cp', { servers: nats.url, heartbeatTtlS: 2, heartbeatEveryMs: 300 });
    try {
      await p.request('spawnMember', { id: 'paused', capabilities: ['transient'] });
      await until('a sees the member of p', () => ids(a, 'transient').join() === 'paused', 20_000);
      p.signal('SIGSTOP');
      await until('a drops it while p is paused', () => ids(a, 'transient').length === 0, 15_000);
      p.signal('SIGCONT');
      await until('a sees it again once p resumed', () => ids(a, 'transient').join() === 'paused', 15_000);
      expect(await a.ask({ capability: 'transient' }, 'count')).toBe(0);
    } finally {
      await p.kill();
    }
    await until('a drops it with p killed', () => ids(a, 'transient').length === 0, 15_000);
    // Its entry is gone from the bucket too: a node joining now does not see it.
    const late = await Runtime.start({ workers: 0, cluster: cluster('cl') });
    others.push(late);
    await until('late sees the live members', () => ids(late, 'summarize').length === 2, 10_000);
    expect(ids(late, 'transient')).toEqual([]);
  });
});
