import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewatchBackoff, watchKv, type KvWatchHandle, type Watchable } from '../../cluster/kv-watch.ts';
import { ActorRegistry } from '../../cluster/registry.ts';
import { Liveness } from '../../cluster/liveness.ts';
import { until } from '../ops-proof/support/ports.ts';
import { NatsServer, noNats } from './support/nats.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('rewatchBackoff (pure)', () => {
  it('doubles from 100 ms up to 5 s, and starts over after 10 s without a failure', () => {
    const b = rewatchBackoff(() => 0);
    const delays = Array.from({ length: 8 }, (_, i) => b.next(i));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(b.next(7 + 5000 + 10_000)).toBe(100);
  });
});

/**
 * The KV watches behind a node's copies of the cluster's buckets (actors, capability members, nodes): their loops
 * used to end silently on a throw, and the copy then stayed stale for good (every later spawn, stop, member change
 * unseen by this node).
 */
describe.skipIf(noNats)('KV watches that recover', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let bucket = 0;
  const handles: Array<{ stop(): void; close?: () => void }> = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    for (const h of handles) h.stop();
    await nc?.close();
    await nats?.stop();
  });

  const fresh = (): Promise<KV> => new Kvm(nc).create(`kvw_${++bucket}`, { history: 1 });

  it('an entry the registry cannot read is skipped: later claims are still seen', async () => {
    const kv = await fresh();
    const liveness = new Liveness(60_000);
    liveness.heard('a', 0);
    liveness.heard('b', 0);
    const watching = new ActorRegistry(kv, 'a', liveness);
    await watching.watch(() => 0);
    handles.push({ stop: () => watching.close() });
    await kv.put('garbage', new TextEncoder().encode('{ not json'));
    const other = new ActorRegistry(kv, 'b', liveness);
    await other.claim('after-garbage', 'notebook');
    await until('the claim after the bad entry is seen', () => watching.known('after-garbage')?.node === 'b', 5000);
  });

  it('a watch whose iterator throws is opened again, resuming after the last revision it saw', async () => {
    const kv = await fresh();
    let watches = 0;
    let broken!: () => void;
    // The first watch is the real one until the test breaks it: its iterator then throws.
    const flaky: Watchable = {
      async watch(opts) {
        const real = await kv.watch(opts);
        if (++watches > 1) return real;
        let fail = false;
        broken = () => {
          fail = true;
          void kv.put('poke', json(0)); // wakes the iterator up
        };
        return {
          stop: () => real.stop(),
          async *[Symbol.asyncIterator]() {
            for await (const e of real) {
              if (fail) throw new Error('injected: the consumer went away');
              yield e;
            }
          },
        };
      },
    };
    const seen = new Map<string, string>();
    const errors: Array<{ err: unknown; retryInMs?: number }> = [];
    const handle: KvWatchHandle = await watchKv(flaky, (e: KvEntry) => {
      if (e.operation === 'PUT') seen.set(e.key, e.string());
      else seen.delete(e.key);
    }, { what: 'test', now: () => Date.now(), random: () => 0, onError: (err, c) => errors.push({ err, retryInMs: c.retryInMs }) });
    handles.push(handle);
    await kv.put('x', json(1));
    await kv.put('y', json(1));
    await until('the first watch saw x and y', () => seen.has('x') && seen.has('y'), 5000);
    broken();
    await until('the watch failed', () => errors.length === 1, 5000);
    expect((errors[0]!.err as Error).message).toMatch(/injected/);
    expect(errors[0]!.retryInMs).toBe(100);
    // Changed while no watch was open, or before the new one: seen once it is.
    await kv.put('x', json(2));
    await kv.delete('y');
    await kv.put('z', json(3));
    await until('the new watch caught up', () => seen.get('x') === '2' && !seen.has('y') && seen.get('z') === '3', 5000);
    expect(handle.rewatches).toBe(1);
    expect(watches).toBe(2);
  });

  it('a handler throwing on an entry is reported and the watch goes on', async () => {
    const kv = await fresh();
    const seen: string[] = [];
    const errors: string[] = [];
    const handle = await watchKv(kv, (e) => {
      if (e.key === 'bad') throw new Error('cannot apply');
      seen.push(e.key);
    }, { what: 'test', now: () => Date.now(), onError: (_err, c) => errors.push(c.key ?? '(watch)') });
    handles.push(handle);
    await kv.put('bad', json(0));
    await kv.put('good', json(0));
    await until('the entry after the bad one is seen', () => seen.includes('good'), 5000);
    expect(errors).toEqual(['bad']);
    expect(handle.rewatches).toBe(0);
  });

  it('after the NATS server restarts, changes are still seen', async () => {
    const kv = await fresh();
    const seen = new Set<string>();
    const handle = await watchKv(kv, (e) => void seen.add(e.key), { what: 'test', now: () => Date.now(), onError: () => {} });
    handles.push(handle);
    await kv.put('before', json(0));
    await until('seen before', () => seen.has('before'), 5000);
    await nats.restart();
    await until('a put after the restart is seen', async () => {
      await kv.put('after', json(0)).catch(() => {});
      return seen.has('after');
    }, 30_000, 200);
  }, 40_000);
});

