import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../runtime/index.ts';
import { startOpsServer } from '../../ops/server.ts';
import { flaky } from '../fixtures/flaky.ts';
import { durableCounter } from '../fixtures/durable.ts';
import { timed } from '../fixtures/timed.ts';
import '../../router/index.ts';
import { helper, dispatcher } from '../fixtures/routed.ts';
import { call, eventually, sample, sampleSum } from './helpers.ts';

/** Two helpers (main thread, worker) and a dispatcher: 3 routed asks from the main thread, a routed tell from the worker. */
async function routeSome(rt: Runtime) {
  await rt.spawn(helper, { id: 'h1', pin: 0 });
  await rt.spawn(helper, { id: 'h2', pin: 1 });
  const d = await rt.spawn(dispatcher, { pin: 1 });
  const help = rt.router({ capability: 'help' });
  for (let i = 0; i < 3; i++) await rt.ask(help, 'quick', i);
  await rt.ask(d, 'tellHelp', 1);
  return help;
}

describe('metrics across a lost thread and with persistence', () => {
  it('counts the lost thread, and counters do not go back when its replacement starts from zero', async () => {
    const rt = await Runtime.start({ workers: 2 });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const doomed = await rt.spawn(flaky, { pin: 2 });
      for (let i = 0; i < 100; i++) rt.tell(doomed, 'add', 1);
      expect(await rt.ask(doomed, 'get')).toBe(100);
      const before = sampleSum((await call(server, 'GET', '/metrics')).text, 'troupe_messages_handled_total', { kind: 'flaky', outcome: 'ok' })!;
      expect(before).toBe(101);
      rt.tell(doomed, 'die'); // process.exit in a worker ends that thread
      await eventually(async () => sample((await call(server, 'GET', '/metrics')).text, 'troupe_threads_lost_total') === 1 || undefined, 10_000, 'the lost thread');
      await eventually(async () => (await call(server, 'GET', '/healthz')).status === 200 || undefined, 10_000, 'the replacement');
      const fresh = await rt.spawn(flaky, { pin: 2 });
      expect(await rt.ask(fresh, 'get')).toBe(0);
      const text = (await call(server, 'GET', '/metrics')).text;
      expect(sampleSum(text, 'troupe_messages_handled_total', { kind: 'flaky', outcome: 'ok' })).toBe(before + 1);
      expect(sample(text, 'troupe_up')).toBe(1);
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });

  it('journal depth, commit and snapshot times with a durable actor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-ops-metrics-'));
    const rt = await Runtime.start({ workers: 1, spareWorker: false, dataDir: dir });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const c = await rt.spawn(durableCounter, { id: 'dc', pin: 1 });
      for (let i = 0; i < 50; i++) await rt.send(c, 'inc');
      expect(await rt.ask(c, 'get')).toBe(50);
      const text = (await call(server, 'GET', '/metrics')).text;
      expect(sample(text, 'troupe_journal_commit_seconds_count')).toBeGreaterThan(0);
      expect(sample(text, 'troupe_snapshot_seconds_count')).toBeGreaterThan(0);
      expect(sample(text, 'troupe_journal_commit_seconds_bucket', { le: '+Inf' })).toBe(sample(text, 'troupe_journal_commit_seconds_count'));
      expect(sample(text, 'troupe_journal_depth')).toBe(0); // all handled
      expect(sampleSum(text, 'troupe_messages_handled_total', { kind: 'durable-counter', outcome: 'ok' })).toBe(51);
    } finally {
      await server.close();
      await rt.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('handling duration: one observation per message, a slow one among others timed alone, an async one until it settles', async () => {
    const rt = await Runtime.start({ workers: 1, spareWorker: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const t = await rt.spawn(timed, { pin: 1 });
      // 1100 messages of >= 30 us (over two slices of SLICE, 512, each slow: the actor's next slices time each message
      // on its own, TIME_EACH_FROM_MS), then one of >= 3 ms among them: in a slice's mean it would be ~36 us, under 1 ms.
      rt.tell(t, 'burst', [...Array(1100).fill(0.03), 3, ...Array(25).fill(0.03)]);
      await eventually(async () => (await rt.ask(t, 'done')) === 1126 || undefined, 10_000, 'the burst');
      await rt.ask(t, 'wait', 60);
      const text = (await call(server, 'GET', '/metrics')).text;
      const le = (bound: string) => sample(text, 'troupe_message_handling_seconds_bucket', { kind: 'timed', le: bound })!;
      const count = sample(text, 'troupe_message_handling_seconds_count', { kind: 'timed' })!;
      expect(count - le('0.001')).toBeGreaterThanOrEqual(2); // the 3 ms spin and the 60 ms wait
      expect(count - le('0.05')).toBeGreaterThanOrEqual(1); // the wait, timed until it settled, not its synchronous part
      expect(sample(text, 'troupe_message_handling_seconds_sum', { kind: 'timed' })).toBeGreaterThan(0.063);
      // Each message observed once: the async one too, neither dropped nor counted twice.
      expect(count).toBe(sampleSum(text, 'troupe_messages_handled_total', { kind: 'timed' }));
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });

  it('router metrics: routed, retried and failed messages per strategy, summed over the threads that route', async () => {
    const rt = await Runtime.start({ workers: 1, spareWorker: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const help = await routeSome(rt);
      await expect(rt.ask(help, 'fail', 'both members fail')).rejects.toMatchObject({ code: 'ERR_ROUTING_FAILED' });
      await expect(rt.ask(rt.router({ capability: 'nobody' }), 'quick', 0)).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
      rt.tell(rt.router({ capability: 'nobody' }), 'quick', 0);
      const text = (await call(server, 'GET', '/metrics')).text;
      const s = (name: string, labels: Record<string, string>) => sample(text, name, { strategy: 'least-loaded', ...labels });
      expect(s('troupe_router_routed_total', { purpose: 'tell' })).toBe(1);
      expect(s('troupe_router_routed_total', { purpose: 'ask' })).toBe(4); // 3 quick, the failing ask's first attempt
      expect(s('troupe_router_retries_total', {})).toBeGreaterThanOrEqual(1); // the other member, at least
      expect(s('troupe_router_failures_total', { reason: 'exhausted' })).toBe(1);
      expect(s('troupe_router_failures_total', { reason: 'no-route' })).toBe(2);
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });

  it('with metrics off the counters stay at zero and the gauges still work', async () => {
    const rt = await Runtime.start({ workers: 1, spareWorker: false, metrics: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const a = await rt.spawn(flaky, { pin: 1 });
      for (let i = 0; i < 10; i++) rt.tell(a, 'add', 1);
      expect(await rt.ask(a, 'get')).toBe(10);
      const text = (await call(server, 'GET', '/metrics')).text;
      expect(sampleSum(text, 'troupe_messages_handled_total', { kind: 'flaky', outcome: 'ok' })).toBe(0);
      expect(sample(text, 'troupe_asks_total', { outcome: 'ok' })).toBe(0);
      expect(sample(text, 'troupe_actors', { kind: 'flaky', status: 'running' })).toBe(1);
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });

  it('with metrics off the router counts nothing either: no troupe_router_ series, on any thread', async () => {
    const rt = await Runtime.start({ workers: 1, spareWorker: false, metrics: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      await routeSome(rt);
      rt.tell(rt.router({ capability: 'nobody' }), 'quick', 0);
      const text = (await call(server, 'GET', '/metrics')).text;
      const routerSamples = text.split('\n').filter((line) => line.startsWith('troupe_router_'));
      expect(routerSamples).toEqual([]);
      expect(text).toContain('# TYPE troupe_router_routed_total counter'); // declared, with no series
      const snapshot = await rt.metricsSnapshot();
      expect(snapshot.threads.map((t) => t.extra)).toEqual(snapshot.threads.map(() => ({})));
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });
});
