import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type ActorRef } from '../../runtime/index.ts';
import { startOpsServer, LIMITS, type OpsServer } from '../../ops/server.ts';
import { InvalidOpsOptionError, InvalidTokenError } from '../../ops/errors.ts';
import { flaky } from '../fixtures/flaky.ts';
import { counter } from '../fixtures/counter.ts';
import { call, eventually, sample, sampleSum } from './helpers.ts';

/** The metric names other parts (dashboard, alert rules) are written against: see docs/ops.md. */
const CONTRACT = [
  'troupe_messages_handled_total', 'troupe_message_handling_seconds', 'troupe_mailbox_depth', 'troupe_actors', 'troupe_restarts_total',
  'troupe_circuit_state', 'troupe_circuit_transitions_total', 'troupe_dead_letters_total', 'troupe_asks_total', 'troupe_ask_timeouts_total',
  'troupe_journal_depth', 'troupe_journal_commit_seconds', 'troupe_snapshot_seconds', 'troupe_worker_event_loop_utilization',
  'troupe_worker_heap_used_bytes', 'troupe_threads_lost_total', 'troupe_up',
];

describe('ops server on a live runtime (2 workers)', () => {
  let rt: Runtime;
  let server: OpsServer;
  let a: ActorRef<typeof flaky>;
  let b: ActorRef<typeof flaky>;
  let plain: ActorRef<typeof counter>;
  let stuck: ActorRef<typeof flaky>;
  let dir: string;
  const TOKEN = 'test-token-0123456789abcdef';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-ops-'));
    rt = await Runtime.start({ workers: 2, spareWorker: false, dataDir: join(dir, 'data') });
    const sup = await rt.supervise({
      id: 'lab', strategy: 'one-for-one', intensity: { maxRestarts: 1, withinMs: 60_000 }, onExhausted: 'open-circuit',
      circuit: { resetMs: 60_000, maxResetMs: 60_000, multiplier: 2 },
      children: [{ id: 'a', actor: flaky, pin: 1 }, { id: 'b', actor: flaky, pin: 2 }],
    });
    a = sup.ref<typeof flaky>('a')!;
    b = sup.ref<typeof flaky>('b')!;
    plain = await rt.spawn(counter, { id: 'plain', pin: 2 });
    stuck = await rt.spawn(flaky, { id: 'stuck', pin: 1 });
    for (let i = 0; i < 1000; i++) rt.tell(a, 'add', 1);
    expect(await rt.ask(a, 'get')).toBe(1000);
    await expect(rt.ask(a, 'crash', 'first')).rejects.toMatchObject({ code: 'ERR_ACTOR_CRASHED' });
    await expect(rt.ask(a, 'crash', 'second')).rejects.toMatchObject({ code: 'ERR_ACTOR_CRASHED' });
    await eventually(async () => (await rt.inspect('a'))?.phase === 'open', 5000, 'the circuit of a to open');
    await expect(rt.ask(stuck, 'hang', undefined, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_ASK_TIMEOUT' });
    rt.tell({ id: 'nobody', kind: 'counter', node: 1 } as ActorRef<typeof counter>, 'add', 1);
    server = await startOpsServer(rt, { port: 0, token: TOKEN, tokenFile: join(dir, 'token') });
  });

  afterAll(async () => {
    await server?.close();
    await rt?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds to loopback on an ephemeral port and writes the token file with mode 0600', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token).toBe(TOKEN);
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'token'), 'utf8').trim()).toBe(TOKEN);
  });

  it('exposes every contract metric, aggregated over the threads, with bounded labels', async () => {
    const res = await call(server, 'GET', '/metrics');
    expect(res.status).toBe(200);
    const text = res.text;
    for (const name of CONTRACT) expect(text, name).toContain(`# TYPE ${name} `);
    expect(text).toContain('process_cpu_user_seconds_total'); // prom-client's default Node metrics
    expect(sample(text, 'troupe_up')).toBe(1);
    expect(sampleSum(text, 'troupe_messages_handled_total', { kind: 'flaky', outcome: 'ok' })).toBeGreaterThanOrEqual(1001);
    expect(sampleSum(text, 'troupe_messages_handled_total', { kind: 'flaky', outcome: 'crashed' })).toBe(2);
    // By message type: the crashes under their type, every type label one of flaky's handlers (or 'other', '$...').
    expect(sample(text, 'troupe_messages_handled_total', { kind: 'flaky', type: 'crash', outcome: 'crashed' })).toBe(2);
    expect(sample(text, 'troupe_messages_handled_total', { kind: 'flaky', type: 'add', outcome: 'ok' })).toBeGreaterThanOrEqual(1000);
    const types = new Set([...text.matchAll(/^troupe_messages_handled_total\{kind="flaky",type="([^"]*)"/gm)].map((m) => m[1]));
    for (const t of types) expect(['other', '$stop', '$terminated', '$replay', ...Object.keys(flaky.handlers)], t).toContain(t);
    expect(sample(text, 'troupe_message_handling_seconds_count', { kind: 'flaky' })).toBeGreaterThanOrEqual(1003);
    expect(sample(text, 'troupe_message_handling_seconds_bucket', { kind: 'flaky', le: '+Inf' })).toBe(sample(text, 'troupe_message_handling_seconds_count', { kind: 'flaky' }));
    expect(sample(text, 'troupe_restarts_total', { kind: 'flaky' })).toBe(1);
    expect(sample(text, 'troupe_actors', { kind: 'flaky', status: 'circuit-open' })).toBe(1);
    expect(sample(text, 'troupe_actors', { kind: 'flaky', status: 'running' })).toBe(2); // b and stuck
    expect(sample(text, 'troupe_actors', { kind: 'counter', status: 'running' })).toBe(1);
    expect(sample(text, 'troupe_circuit_state', { kind: 'flaky', state: 'open' })).toBe(1);
    expect(sample(text, 'troupe_circuit_transitions_total', { kind: 'flaky', to: 'open' })).toBe(1);
    expect(sample(text, 'troupe_dead_letters_total', { reason: 'crashed' })).toBe(2);
    expect(sample(text, 'troupe_dead_letters_total', { reason: 'not-found' })).toBe(1);
    expect(sample(text, 'troupe_asks_total', { outcome: 'timeout' })).toBe(1);
    expect(sample(text, 'troupe_ask_timeouts_total')).toBe(1);
    expect(sample(text, 'troupe_asks_total', { outcome: 'error' })).toBe(2);
    expect(sample(text, 'troupe_threads_lost_total')).toBe(0);
    for (const thread of ['0', '1', '2']) expect(sample(text, 'troupe_worker_heap_used_bytes', { thread })).toBeGreaterThan(0);
    expect(text).not.toMatch(/id="/); // never a label per actor id
  });

  it('serves the actors, the tree, one actor, circuits, crashes and dead letters', async () => {
    const actors = (await call(server, 'GET', '/api/actors')).json.actors as Array<{ id: string; supervisor?: string }>;
    expect(actors.map((x) => x.id)).toEqual(['a', 'b', 'plain', 'stuck']);
    expect(actors.find((x) => x.id === 'a')!.supervisor).toBe('lab');
    const tree = (await call(server, 'GET', '/api/tree')).json;
    expect(tree.roots).toHaveLength(1);
    expect(tree.roots[0]).toMatchObject({ id: 'lab', type: 'supervisor', status: 'running' });
    expect(tree.roots[0].children.map((c: { id: string }) => c.id)).toEqual(['a', 'b']);
    expect(tree.roots[0].children[0]).toMatchObject({ id: 'a', status: 'circuit-open', restarts: 1, kind: 'flaky', node: 1, circuit: { state: 'open' } });
    expect(tree.unsupervised.map((x: { id: string }) => x.id).sort()).toEqual(['plain', 'stuck']);
    const one = await call(server, 'GET', '/api/actors/a');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: 'a', kind: 'flaky', node: 1, phase: 'open', supervisor: 'lab', status: 'circuit-open', mailboxDepth: 0 });
    expect(one.json.state).toEqual({ count: 0, seen: [], tag: '' }); // restarted from init before its circuit opened
    expect(one.json.recentCrashes.map((c: { messageType: string; decision: string }) => [c.messageType, c.decision])).toEqual([['crash', 'restart'], ['crash', 'open-circuit']]);
    expect(one.json.incarnation).toBeGreaterThan(0);
    const circuits = (await call(server, 'GET', '/api/circuits')).json.circuits;
    expect(circuits.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([['a', 'open'], ['b', 'closed']]);
    expect((await call(server, 'GET', '/api/crashes')).json.crashes).toHaveLength(2);
    const dl = (await call(server, 'GET', '/api/dead-letters')).json;
    expect(dl.counts).toMatchObject({ crashed: 2, 'not-found': 1 });
    expect(dl.recent.some((d: { to: string; reason: string }) => d.to === 'nobody' && d.reason === 'not-found')).toBe(true);
    expect((await call(server, 'GET', '/api/actors/plain/poison')).json).toEqual({ messages: [] });
  });

  it('refuses mutating calls without the right token (401), and nothing changes', async () => {
    for (const token of [undefined, 'wrong-token-0123456789abcdef', `${TOKEN}x`, TOKEN.slice(1)]) {
      const res = await call(server, 'POST', '/api/actors/plain/send', { body: { type: 'add', payload: 5 }, token });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('ERR_UNAUTHORIZED');
      for (const path of ['/api/actors/plain/stop', '/api/actors/b/restart', '/api/circuits/a/reset', '/api/actors/plain/poison/1/drop']) {
        expect((await call(server, 'POST', path, { token })).status).toBe(401);
      }
    }
    expect(await rt.ask(plain, 'get')).toBe(0);
    expect((await rt.inspect('a'))!.phase).toBe('open');
    expect(await rt.lookup('plain')).toBeDefined();
  });

  it('never sends the token back', async () => {
    const paths = ['/', '/metrics', '/healthz', '/readyz', '/api/actors', '/api/tree', '/api/actors/a', '/api/circuits', '/api/crashes', '/api/dead-letters', '/nowhere'];
    for (const path of paths) {
      const res = await call(server, 'GET', path);
      expect(res.text, path).not.toContain(TOKEN);
    }
    const refused = await call(server, 'POST', '/api/actors/plain/send', { body: { type: 'add', payload: 1 }, token: 'nearly-the-token-but-not-quite' });
    expect(refused.text).not.toContain(TOKEN);
  });

  it('answers bad calls with 4xx and the runtime\'s error code', async () => {
    const t = { token: TOKEN };
    const cases: Array<[string, string, { body?: unknown; raw?: string }, number, string]> = [
      ['POST', '/api/actors/nobody/send', { body: { type: 'add', payload: 1 } }, 404, 'ERR_ACTOR_NOT_FOUND'],
      ['POST', '/api/actors/nobody/ask', { body: { type: 'get' } }, 404, 'ERR_ACTOR_NOT_FOUND'],
      ['POST', '/api/actors/plain/send', { raw: '{"type": "add", payload' }, 400, 'ERR_INVALID_JSON'],
      ['POST', '/api/actors/plain/send', { body: { type: 'no-such-type' } }, 400, 'ERR_UNKNOWN_MESSAGE_TYPE'],
      ['POST', '/api/actors/plain/send', { body: { type: '$stop' } }, 400, 'ERR_UNKNOWN_MESSAGE_TYPE'],
      ['POST', '/api/actors/plain/send', { body: [1, 2] }, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/api/actors/plain/send', { raw: '{"type":"add","payload":{"__proto__":{"x":1}}}' }, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/api/actors/plain/ask', { body: { type: 'get', timeoutMs: -1 } }, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/api/actors/plain/send', { raw: JSON.stringify({ type: 'add', payload: 'x'.repeat(LIMITS.bodyBytes) }) }, 413, 'ERR_BODY_TOO_LARGE'],
      ['POST', '/api/actors/plain/restart', {}, 409, 'ERR_NOT_SUPERVISED'],
      ['POST', '/api/circuits/b/reset', {}, 409, 'ERR_CIRCUIT_NOT_OPEN'],
      ['POST', '/api/circuits/plain/reset', {}, 409, 'ERR_NOT_SUPERVISED'],
      ['POST', '/api/actors/plain/poison/1/drop', {}, 404, 'ERR_POISON_NOT_FOUND'],
      ['POST', '/api/actors/plain/poison/x/drop', {}, 400, 'ERR_BAD_REQUEST'],
      ['POST', '/api/actors/a/ask', { body: { type: 'get' } }, 503, 'ERR_CIRCUIT_OPEN'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const res = await call(server, method, path, { ...opts, ...t });
      expect([path, res.status, res.json?.error?.code]).toEqual([path, status, code]);
    }
    expect((await call(server, 'GET', '/api/actors/nobody')).json.error.code).toBe('ERR_ACTOR_NOT_FOUND');
    expect(await rt.ask(plain, 'get')).toBe(0); // none of them got through
  });

  it('sends, asks, resets a circuit, restarts and stops actors with the token', async () => {
    const t = { token: TOKEN };
    const sent = await call(server, 'POST', '/api/actors/plain/send', { body: { type: 'add', payload: 5 }, ...t });
    expect(sent.status).toBe(200);
    expect(sent.json.receipt).toMatchObject({ duplicate: false });
    const asked = await call(server, 'POST', '/api/actors/plain/ask', { body: { type: 'get' }, ...t });
    expect(asked.json).toEqual({ reply: 5 });

    expect((await call(server, 'POST', '/api/circuits/a/reset', t)).json).toEqual({ reset: 'a' });
    expect(await eventually(async () => (await call(server, 'POST', '/api/actors/a/ask', { body: { type: 'get' }, ...t })).json.reply === 0 || undefined, 5000, 'a to answer')).toBe(true);
    // Its restart window was cleared with the circuit: one crash is a restart again, not a trip.
    const crashed = await call(server, 'POST', '/api/actors/a/ask', { body: { type: 'crash', payload: 'via api' }, ...t });
    expect([crashed.status, crashed.json.error.code]).toEqual([502, 'ERR_ACTOR_CRASHED']);
    expect(await eventually(async () => (await call(server, 'POST', '/api/actors/a/ask', { body: { type: 'get' }, ...t })).json.reply === 0 || undefined, 5000, 'a to answer again')).toBe(true);
    const text = (await call(server, 'GET', '/metrics')).text;
    expect(sample(text, 'troupe_circuit_transitions_total', { kind: 'flaky', to: 'closed' })).toBe(1);
    expect(sample(text, 'troupe_circuit_state', { kind: 'flaky', state: 'open' })).toBeUndefined();

    await call(server, 'POST', '/api/actors/b/send', { body: { type: 'add', payload: 7 }, ...t });
    const before = (await call(server, 'GET', '/api/actors/b')).json;
    expect(before.state.count).toBe(7);
    expect((await call(server, 'POST', '/api/actors/b/restart', t)).json).toEqual({ restarted: 'b' });
    const after = await eventually(async () => {
      const info = (await call(server, 'GET', '/api/actors/b')).json;
      return info.status === 'running' && info.restarts === before.restarts + 1 ? info : undefined;
    }, 5000, 'b restarted');
    expect(after.state.count).toBe(0);

    expect((await call(server, 'POST', '/api/actors/plain/stop', t)).json).toEqual({ stopped: 'plain' });
    expect((await call(server, 'GET', '/api/actors/plain')).status).toBe(404);
  });

  it('stays responsive while a client holds a connection open with headers that never end (slowloris)', async () => {
    const sock = connect(new URL(server.url).port as unknown as number, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {});
    sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => sock.write('X-Slow: 1\r\n'), 200);
    try {
      expect((await call(server, 'GET', '/healthz')).status).toBe(200);
      expect((await call(server, 'GET', '/metrics')).status).toBe(200);
      expect(await rt.ask(a, 'get')).toBe(0);
      await closed; // the server drops it (headers timeout); the test times out if it never does
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
  }, 20_000);

  it('health: every thread answers; readiness: the supervisors run and the store is open', async () => {
    const live = await call(server, 'GET', '/healthz');
    expect(live.status).toBe(200);
    expect(live.json.threads.map((x: { node: number; ok: boolean }) => [x.node, x.ok])).toEqual([[0, true], [1, true], [2, true]]);
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ ok: true, lifecycle: 'running', supervisors: [{ id: 'lab', status: 'running' }], store: { configured: true, open: true } });
  });
});

describe('ops server options and failing health', () => {
  it('refuses bad options with named errors', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      await expect(startOpsServer(rt, { port: -1 })).rejects.toThrow(InvalidOpsOptionError);
      await expect(startOpsServer(rt, { port: 0, token: 'short' })).rejects.toThrow(InvalidTokenError);
      const one = await startOpsServer(rt, { port: 0 });
      expect(one.token.length).toBeGreaterThanOrEqual(40); // generated
      const port = Number(new URL(one.url).port);
      await expect(startOpsServer(rt, { port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await one.close();
    } finally {
      await rt.shutdown();
    }
  });

  it('/healthz fails (503, with the thread) when a worker does not answer', async () => {
    const rt = await Runtime.start({ workers: 2, stallMs: 0, spareWorker: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const spinner = await rt.spawn(flaky, { pin: 2 });
      rt.tell(spinner, 'spin');
      const res = await call(server, 'GET', '/healthz');
      expect(res.status).toBe(503);
      expect(res.json.ok).toBe(false);
      expect(res.json.reason).toContain('thread 2');
      expect(res.json.threads.find((x: { node: number }) => x.node === 1).ok).toBe(true);
    } finally {
      await server.close();
      await rt.shutdown(); // the spinning thread is terminated after the shutdown's grace
    }
  });

  it('/readyz fails (503) during shutdown, /healthz once shut down', async () => {
    const rt = await Runtime.start({ workers: 1, spareWorker: false });
    const server = await startOpsServer(rt, { port: 0 });
    try {
      const sup = await rt.supervise({ id: 'slow', children: [{ id: 's', actor: flaky, shutdown: { graceMs: 1000 } }] });
      const s = sup.ref<typeof flaky>('s')!;
      expect((await call(server, 'GET', '/readyz')).status).toBe(200);
      void rt.ask(s, 'slow', 400).catch(() => undefined); // in flight: the shutdown waits for it
      await new Promise((r) => setTimeout(r, 20));
      const down = rt.shutdown();
      const during = await call(server, 'GET', '/readyz');
      expect(during.status).toBe(503);
      expect(during.json.reason).toContain('shutting-down');
      await down;
      const after = await call(server, 'GET', '/healthz');
      expect(after.status).toBe(503);
      expect(after.json.reason).toContain('shut down');
      expect((await call(server, 'GET', '/readyz')).status).toBe(503);
      expect(sample((await call(server, 'GET', '/metrics')).text, 'troupe_up')).toBe(0);
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });
});
