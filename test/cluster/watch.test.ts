import { beforeAll, describe, expect, it } from 'vitest';
import type { TerminationNotice } from '../../actors/define.ts';
import { Runtime } from '../../runtime/index.ts';
import { clusterOf } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { notebook } from './fixtures.ts';
import { overseer } from './span-fixtures.ts';

describe.skipIf(noNats)('watch and stop across nodes', () => {
  const suite = clusterSuite({ defaults: { heartbeatEveryMs: 300 } });
  let a: Runtime;
  let b: Runtime;

  beforeAll(async () => {
    a = await suite.node('wa', {}, { workers: 2 });
    b = await suite.node('wb', {}, { workers: 2 });
  });

  it("runtime.stop of another node's actor stops it there and resolves once it terminated; watchers hear it", async () => {
    const ref = await b.spawn(notebook, { id: 'w-1', pin: 2 }); // a ref naming b's thread 2 (a has a thread 2 too)
    const heard: TerminationNotice[] = [];
    a.watch(ref, (n) => heard.push(n));
    b.tell(ref, 'note', 'x');
    await a.stop(ref);
    expect(await b.lookup('w-1')).toBeUndefined();
    expect(await b.inspect('w-1')).toBeUndefined();
    await until('the watcher on a heard it', () => heard.length === 1, 5_000);
    expect(heard[0]).toMatchObject({ id: 'w-1', kind: 'notebook', reason: 'stopped' });
    // Stopped for good: a second stop resolves at once, a watch says it is not there.
    await a.stop(ref);
    const late = await new Promise<TerminationNotice>((r) => a.watch(ref, r));
    expect(late.reason).toBe('not-found');
  });

  it('an actor on a worker watches and stops actors of another node (one notice each); unwatch is kept', async () => {
    const watcher = await a.spawn(overseer, { id: 'overseer-1', pin: 1 });
    const other = await a.spawn(overseer, { id: 'overseer-2', pin: 2 });
    const t1 = await b.spawn(notebook, { id: 'w-2', pin: 1 });
    const t2 = await b.spawn(notebook, { id: 'w-3' });
    const t3 = await b.spawn(notebook, { id: 'w-4' });
    const viaLookup = (await a.lookup('w-3'))!;
    await a.ask(watcher, 'watch', t1);
    await a.ask(other, 'watch', t1);
    await a.ask(watcher, 'watch', viaLookup);
    await a.ask(watcher, 'watch', t3);
    await until('b knows a watches w-4', () => clusterOf(b).watchersOf('w-4').join() === 'wa', 5_000);
    await a.ask(watcher, 'unwatch', t3);
    await until('the unwatch reached b', () => clusterOf(b).watchersOf('w-4').length === 0, 5_000);
    await until('b knows a watches w-2 and w-3', () => clusterOf(b).watchersOf('w-2').join() === 'wa' && clusterOf(b).watchersOf('w-3').join() === 'wa', 5_000);
    await b.stop(t1); // stopped by its own node: both watchers on a hear it
    await a.ask(watcher, 'stop', viaLookup); // stopped from a worker of a
    await until('w-3 is gone on b', async () => (await b.lookup('w-3')) === undefined, 5_000);
    await b.stop(t3);
    await until('the notices came', async () => (await a.ask(watcher, 'notices')).length === 2 && (await a.ask(other, 'notices')).length === 1, 5_000);
    const notices = await a.ask(watcher, 'notices');
    expect(notices.map((n) => `${n.id}:${n.reason}`).sort()).toEqual(['w-2:stopped', 'w-3:stopped']);
    expect((await a.ask(other, 'notices')).map((n) => n.id)).toEqual(['w-2']);
    void t2;
  });

  it('a ref naming a thread the watching node does not have: watch and stop from a worker still reach the owner', async () => {
    const c = await suite.node('wc', {}, { workers: 1 });
    try {
      const target = await b.spawn(notebook, { id: 'w-far', pin: 2 }); // thread 2 of b; c has threads 0 and 1 only
      const watcher = await c.spawn(overseer, { id: 'overseer-far', pin: 1 });
      await c.ask(watcher, 'watch', target);
      await until('b knows c watches w-far', () => clusterOf(b).watchersOf('w-far').join() === 'wc', 5_000);
      expect(await c.ask(watcher, 'notices')).toEqual([]); // not 'worker-lost' at once
      await c.ask(watcher, 'stop', target);
      await until('w-far is gone on b', async () => (await b.lookup('w-far')) === undefined, 5_000);
      await until('the notice came', async () => (await c.ask(watcher, 'notices')).length === 1, 5_000);
      expect((await c.ask(watcher, 'notices')).map((n) => `${n.id}:${n.reason}`)).toEqual(['w-far:stopped']);
    } finally {
      await c.shutdown();
    }
  });

  it("a watch on an id no node has says 'not-found'; a node that dies tells its watchers 'node-lost'", async () => {
    const none = await new Promise<TerminationNotice>((r) => a.watch({ id: 'never-was', kind: 'notebook', node: 0 }, r));
    expect(none.reason).toBe('not-found');
    const k = await suite.process('wk', { servers: suite.nats.url, heartbeatTtlS: 2, heartbeatEveryMs: 300 });
    try {
      await k.request('spawnMember', { id: 'on-k', capabilities: [] });
      const ref = (await a.lookup('on-k'))!;
      expect(await a.ask(ref, 'count')).toBe(0);
      const heard = new Promise<TerminationNotice>((r) => a.watch(ref, r));
      const viaWorker = await a.spawn(overseer, { id: 'overseer-3', pin: 1 });
      await a.ask(viaWorker, 'watch', ref);
      await k.kill();
      expect((await heard).reason).toBe('node-lost');
      await until('the actor watcher heard it too', async () => (await a.ask(viaWorker, 'notices')).length === 1, 10_000);
      expect((await a.ask(viaWorker, 'notices'))[0]!.reason).toBe('node-lost');
    } finally {
      await k.kill();
    }
  });

  it('an actor spawns on another node from a worker (ctx.spawn with node)', async () => {
    const o = await a.spawn(overseer, { id: 'overseer-4', pin: 2 });
    const ref = await a.ask(o, 'spawnOn', { node: 'wb', id: 'from-ctx' });
    expect(await b.inspect('from-ctx')).toBeDefined();
    expect(await a.ask(ref, 'count')).toBe(0);
  });
});
