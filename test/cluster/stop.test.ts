import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, type TerminationNotice } from '../../runtime/index.ts';
import { registerThreadExtension, type ThreadServices } from '../../runtime/extensions.ts';
import { notebook } from './fixtures.ts';
import { overseer } from './span-fixtures.ts';
import { flaky } from '../fixtures/flaky.ts';
import { clusterOf } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const packr = new Packr({ useRecords: false, moreTypes: true });

/**
 * `runtime.stop(ref)` of another node's actor resolves on the owner's termination notice. A notice (or the stop
 * itself) lost in a reconnect left it waiting for good. Here the owner is a stand-in made of raw NATS: it
 * heartbeats, answers watch registrations, and drops every stop, as a lost message would be dropped.
 */
describe.skipIf(noNats)('a stop of another node\'s actor whose notice never comes', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let b: Runtime | undefined;
  let beat: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    clearInterval(beat);
    await b?.shutdown();
    await nc?.close();
    await nats?.stop();
  });

  it('settles once the registry shows the actor gone, the stop sent again meanwhile', async () => {
    const name = 'lost';
    b = await Runtime.start({ workers: 0, cluster: { servers: nats.url, name, node: 'b', heartbeatTtlS: 2 } });
    const kvm = new Kvm(nc);
    const nodesKv = await kvm.open(`troupe_${name}_nodes`);
    const actorsKv = await kvm.open(`troupe_${name}_actors`);
    const ghostRecord = () => json({ node: 'ghost', pid: 0, joinedAt: Date.now(), actors: 1 });
    await nodesKv.put('ghost', ghostRecord());
    beat = setInterval(() => void nodesKv.put('ghost', ghostRecord()).catch(() => {}), 300);
    await actorsKv.put('g-1', json({ node: 'ghost', kind: 'notebook' }));
    const stops: string[] = [];
    nc.subscribe(`troupe.${name}.ctl.ghost`, {
      callback: (_err, msg) => {
        const [op, id] = packr.unpack(msg.data) as [number, string];
        if (op === 0) msg.respond(packr.pack([1])); // a watch: registered
        if (op === 2) stops.push(id); // a stop: lost
      },
    });
    const ref = (await until('b finds g-1 on the ghost node', () => b!.lookup('g-1'), 5000))!;
    let settled = false;
    const stopped = b.stop(ref).then(() => {
      settled = true;
    });
    await until('the stop reached the ghost', () => stops.length >= 1, 5000);
    await until('the stop is sent again while its notice does not come', () => stops.length >= 2, 10_000);
    expect(settled).toBe(false);
    await actorsKv.delete('g-1'); // what the owner does once the actor has stopped
    await until('the stop settles', () => settled, 10_000);
    await stopped;
  }, 30_000);
});

describe.skipIf(noNats)('the reason of a stop across nodes', () => {
  const suite = clusterSuite();

  it('the watchers get the stopper\'s reason, not a plain \'stopped\'', async () => {
    // The main thread's services of the next runtime started (a kernel hook any capability has): a stop with a reason.
    let services: ThreadServices | undefined;
    registerThreadExtension({ module: new URL('./fixtures.ts', import.meta.url).href, attach: (s) => void (services ??= s) });
    const a = await suite.node('a', { name: 'reason' });
    const c = await suite.node('c', { name: 'reason' });
    const stopper = services!;
    const local = await c.spawn(notebook, { id: 'r-1' });
    const remote = (await until('a finds r-1', () => a.lookup('r-1'), 5000))!;
    const seen: TerminationNotice[] = [];
    c.watch(local, (n) => seen.push(n));
    a.watch(remote, (n) => seen.push(n));
    await until('a\'s watch is registered with c', () => clusterOf(c).watchersOf('r-1').length === 1, 5000);
    stopper.stop(remote, 'retired');
    await until('both watchers told', () => seen.length === 2, 10_000);
    expect(seen.map((n) => n.reason)).toEqual(['retired', 'retired']);
  }, 30_000);

  it('a worker thread lost with its watchers: the watches only it asked for end at the owner, the others stay', async () => {
    const a = await suite.node('a', { name: 'lost-thread' }, { workers: 1 });
    const b = await suite.node('b', { name: 'lost-thread' });
    const only = await b.spawn(notebook, { id: 'lt-1' });
    const shared = await b.spawn(notebook, { id: 'lt-2' });
    const watcher = await a.spawn(overseer, { id: 'lt-watcher', pin: 1 });
    await a.ask(watcher, 'watch', only);
    await a.ask(watcher, 'watch', shared);
    a.watch(shared, () => {}); // from the main thread too
    await until('b knows a watches both', () => clusterOf(b).watchersOf('lt-1').join() === 'a' && clusterOf(b).watchersOf('lt-2').join() === 'a', 5000);
    const bomb = await a.spawn(flaky, { pin: 1 });
    await a.ask(bomb, 'die', undefined, { timeoutMs: 10_000 }).catch(() => {});
    await until('the watch only the lost thread had ended at b', () => clusterOf(b).watchersOf('lt-1').length === 0, 10_000);
    expect(clusterOf(b).watchersOf('lt-2')).toEqual(['a']);
  }, 30_000);
});
