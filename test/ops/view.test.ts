import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { startOpsServer, type OpsServer } from '../../ops/server.ts';
import { CIRCUITS, STATUSES } from '../../ops/view-model.ts';
import { flaky } from '../fixtures/flaky.ts';
import { call, eventually } from './helpers.ts';

interface Event {
  event: string;
  data: any;
  bytes: number;
}

/** A live /events reader that applies snapshots and diffs as the page does. */
function follow(server: OpsServer) {
  const ac = new AbortController();
  const events: Event[] = [];
  const names: string[] = [];
  const actors = new Map<string, { status: string; circuit: string; restarts: number; supervisor: string; kind: string; mailbox: number }>();
  const apply = (rows: unknown[][]) => {
    for (const r of rows) {
      actors.set(r[0] as string, {
        supervisor: (r[1] as number) < 0 ? '' : names[r[1] as number]!, kind: names[r[2] as number]!, status: STATUSES[r[4] as number]!,
        restarts: r[5] as number, mailbox: r[6] as number, circuit: CIRCUITS[r[7] as number]!,
      });
    }
  };
  const done = (async () => {
    const res = await fetch(`${server.url}/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(chunk)![1]!;
          const data = JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!);
          events.push({ event, data, bytes: Buffer.byteLength(chunk) + 2 });
          if (event === 'snapshot') {
            names.length = 0;
            names.push(...data.names);
            actors.clear();
            apply(data.actors);
          } else if (event === 'diff') {
            for (const [i, n] of data.names ?? []) names[i] = n;
            apply(data.actors);
            for (const id of data.gone) actors.delete(id);
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, actors, close: async () => { ac.abort(); await done; } };
}

describe('live web view', () => {
  let rt: Runtime;
  let server: OpsServer;

  beforeAll(async () => {
    rt = await Runtime.start({ workers: 2, spareWorker: false });
    await rt.supervise({
      id: 'lab', onExhausted: 'open-circuit', intensity: { maxRestarts: 1, withinMs: 60_000 }, circuit: { resetMs: 60_000, maxResetMs: 60_000, multiplier: 2 },
      children: [{ id: 'ada', actor: flaky, pin: 1 }, { id: 'alan', actor: flaky, pin: 2 }],
    });
    await rt.spawn(flaky, { id: 'loner', pin: 2 });
    server = await startOpsServer(rt, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await rt?.shutdown();
  });

  it('serves one page with the hooks the browser test uses', async () => {
    const page = await call(server, 'GET', '/');
    expect(page.status).toBe(200);
    for (const hook of ['id="tree"', 'id="threads"', 'id="crashes"', 'id="conn"', 'data-ticks', 'dataset.actorId', 'dataset.status', 'dataset.circuit', 'dataset.restarts', 'dataset.mailbox', "new EventSource('events')"]) {
      expect(page.text).toContain(hook);
    }
  });

  it('streams the tree, then a crash, a restart and a circuit opening', async () => {
    const feed = follow(server);
    try {
      await eventually(() => feed.actors.size === 3 || undefined, 5000, 'the first view');
      expect(feed.actors.get('ada')).toMatchObject({ supervisor: 'lab', kind: 'flaky', status: 'running', circuit: 'closed', restarts: 0 });
      expect(feed.actors.get('loner')).toMatchObject({ supervisor: '', status: 'running' });
      const diff = feed.events.find((e) => e.event === 'diff')!;
      expect(diff.data.threads.map((t: number[]) => t[0])).toEqual([0, 1, 2]);

      const ada = (await rt.lookup('ada'))!;
      await rt.ask(ada as never, 'crash' as never, 'one' as never).catch(() => undefined);
      await eventually(() => feed.actors.get('ada')!.restarts === 1 || undefined, 5000, 'the restart');
      expect(feed.events.some((e) => e.event === 'crash' && e.data.actorId === 'ada' && e.data.decision === 'restart')).toBe(true);
      await rt.ask(ada as never, 'crash' as never, 'two' as never).catch(() => undefined);
      await eventually(() => feed.actors.get('ada')!.circuit === 'open' || undefined, 5000, 'the circuit opening');
      expect(feed.actors.get('ada')!.status).toBe('circuit-open');
      expect(feed.events.some((e) => e.event === 'crash' && e.data.decision === 'open-circuit')).toBe(true);

      const loner = (await rt.lookup('loner'))!;
      await rt.stop(loner);
      await eventually(() => !feed.actors.has('loner') || undefined, 5000, 'the stopped actor to go');
    } finally {
      await feed.close();
    }
  });

  it('with 10,000 actors: the whole view stays under 500 KB (so <= 1 MB/s at two ticks a second) and a quiet tick is tiny', async () => {
    const pool = await rt.supervise({
      id: 'pool', intensity: { maxRestarts: 100_000, withinMs: 1000 },
      children: Array.from({ length: 10_000 }, (_, i) => ({ id: `agent-${i}`, actor: flaky, pin: 1 + (i % 2) })),
    });
    const feed = follow(server);
    try {
      await eventually(() => feed.actors.size >= 10_000 || undefined, 20_000, 'the whole view');
      const whole = feed.events.find((e) => e.event === 'diff' || e.event === 'snapshot')!;
      await eventually(() => feed.events.filter((e) => e.event === 'diff').length >= 3 || undefined, 10_000, 'quiet ticks');
      const quiet = feed.events.filter((e) => e.event === 'diff').slice(1);
      console.log(`view with ${feed.actors.size} actors: whole ${whole.bytes} B, quiet tick ${quiet.at(-1)!.bytes} B`);
      expect(whole.bytes).toBeLessThan(500_000);
      for (const q of quiet) expect(q.bytes).toBeLessThan(1_000);
    } finally {
      await feed.close();
      await pool.stop();
    }
  }, 60_000);

  it('refuses a 17th viewer (503) and keeps serving the others', async () => {
    const feeds = Array.from({ length: 16 }, () => follow(server));
    try {
      await eventually(() => feeds.every((f) => f.events.length > 0) || undefined, 10_000, 'sixteen viewers');
      const res = await fetch(`${server.url}/events`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_TOO_MANY_VIEWERS');
    } finally {
      for (const f of feeds) await f.close();
    }
  });
});
