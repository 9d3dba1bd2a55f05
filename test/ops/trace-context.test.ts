import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { Runtime, InvalidTraceparentError, parseTraceparent, traceIdOf } from '../../runtime/index.ts';
import type { ActorRef } from '../../actors/define.ts';
import { childTraceparent } from '../../runtime/tracing.ts';
import { startOpsServer, type OpsServer } from '../../ops/server.ts';
import { hop, type Step } from '../fixtures/traced.ts';
import { eventually } from './helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 200);
const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** The parts of a valid version-00 traceparent (the test fails on anything else). */
function parts(tp: string): { traceId: string; spanId: string } {
  expect(parseTraceparent(tp)).toBe(tp);
  return { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52) };
}

describe('trace context (runtime/tracing.ts), no tracer installed', () => {
  let rt: Runtime;
  let refs: Record<'a' | 'b' | 'c' | 'd' | 'e', ActorRef<typeof hop>>;
  const seen = async (ref: ActorRef<typeof hop>) => rt.ask(ref, 'seen');

  beforeAll(async () => {
    rt = await Runtime.start({ workers: 2, spareWorker: false });
    const pins = { a: 0, b: 1, c: 2, d: 1, e: 2 } as const;
    refs = Object.fromEntries(await Promise.all(Object.entries(pins).map(async ([id, pin]) => [id, await rt.spawn(hop, { id, pin })]))) as typeof refs;
    await rt.ask(refs.e, 'subscribe', 'hops');
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it('a chain of tell, ask, send and publish across three threads shares one trace id, one span id per handling', async () => {
    const { a, b, c, d, e } = refs;
    const route: Step[] = [{ to: b, how: 'tell' }, { to: c, how: 'ask' }, { to: d, how: 'send' }, { to: e, how: 'publish' }, { to: a, how: 'tell' }];
    rt.tell(a, 'relay', { route });
    await eventually(async () => (await seen(a)).length === 2, 10_000, 'the chain to come back to a');
    const all = [...await seen(a), ...await seen(b), ...await seen(c), ...await seen(d), ...await seen(e)].map(parts);
    expect(all).toHaveLength(6);
    expect(new Set(all.map((p) => p.traceId)).size).toBe(1);
    expect(new Set(all.map((p) => p.spanId)).size).toBe(6);
  });

  it('each message sent from outside a handler starts a trace of its own', async () => {
    const before = (await seen(refs.b)).length;
    rt.tell(refs.b, 'relay', { route: [] });
    rt.tell(refs.b, 'relay', { route: [] });
    const after = await eventually(async () => { const s = await seen(refs.b); return s.length === before + 2 && s; }, 5000, 'two handlings');
    const [x, y] = after.slice(before).map(parts);
    expect(x!.traceId).not.toBe(y!.traceId);
  });

  it('takes the trace a caller passes: Runtime.inTrace for tells, the traceparent option for asks and sends', async () => {
    const { traceId } = parts(CALLER);
    rt.inTrace(CALLER, () => rt.tell(refs.a, 'relay', { route: [{ to: refs.c, how: 'tell' }] }));
    await rt.ask(refs.d, 'relay', { route: [{ to: refs.e, how: 'tell' }] }, { traceparent: CALLER });
    await rt.send(refs.b, 'relay', { route: [] }, { traceparent: CALLER });
    const last = async (ref: ActorRef<typeof hop>) => parts((await seen(ref)).at(-1)!);
    await eventually(async () => traceIdOf((await seen(refs.c)).at(-1) ?? '') === traceId && traceIdOf((await seen(refs.e)).at(-1) ?? '') === traceId, 5000, 'the chains');
    for (const ref of [refs.a, refs.b, refs.c, refs.d, refs.e]) {
      const p = await last(ref);
      expect(p.traceId).toBe(traceId);
      expect(p.spanId).not.toBe(CALLER.slice(36, 52)); // the handling's own span, child of the caller's
    }
    // The scope ends with the function: the next tell starts a new trace.
    rt.tell(refs.a, 'relay', { route: [] });
    await eventually(async () => traceIdOf((await seen(refs.a)).at(-1)!) !== traceId, 5000, 'a new trace');
  });

  it('an async handler awaiting an ask keeps its trace', async () => {
    await rt.inTrace(CALLER, () => rt.ask(refs.a, 'relayAwaiting', { route: [{ to: refs.b, how: 'ask' }] }));
    expect(parts((await seen(refs.a)).at(-1)!).traceId).toBe(traceIdOf(CALLER));
    expect(parts((await seen(refs.b)).at(-1)!).traceId).toBe(traceIdOf(CALLER));
  });

  it('what an actor tells after its handling ended (a timer) carries no trace of that message', async () => {
    const before = (await seen(refs.b)).length;
    await rt.ask(refs.d, 'active', refs.b, { traceparent: CALLER }); // nothing else reaches d before its timer fires
    const late = await eventually(async () => { const s = await seen(refs.b); return s.length === before + 1 && s.at(-1)!; }, 5000, 'the late tell');
    expect(parts(late).traceId).not.toBe(traceIdOf(CALLER)); // a trace of its own, as for a tell from outside
    expect(traceIdOf((await rt.ask(refs.d, 'seen')).at(-1)!)).toBe(traceIdOf(CALLER));
  });

  it('refuses a malformed traceparent where it is given, with a named error, and keeps running', async () => {
    const bad = ['', 'nonsense', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', `${CALLER}-extra`];
    for (const tp of bad) {
      expect(() => rt.inTrace(tp, () => undefined), tp).toThrow(InvalidTraceparentError);
      expect(() => rt.ask(refs.a, 'seen', undefined, { traceparent: tp }), tp).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRACEPARENT' }));
    }
    expect(Array.isArray(await rt.ask(refs.a, 'seen'))).toBe(true);
  });

  it('an admin API ask continues the trace of its traceparent header; a malformed header starts a new trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-trace-'));
    const token = 'trace-token-0123456789abcdef';
    let server: OpsServer | undefined;
    try {
      server = await startOpsServer(rt, { port: 0, token, tokenFile: join(dir, 'token') });
      const ask = (traceparent: string) => fetch(`${server!.url}/api/actors/c/ask`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', traceparent },
        body: JSON.stringify({ type: 'relay', payload: { route: [] } }),
      });
      expect((await ask(CALLER)).status).toBe(200);
      expect(parts((await seen(refs.c)).at(-1)!).traceId).toBe(traceIdOf(CALLER));
      expect((await ask('garbage')).status).toBe(200);
      expect(parts((await seen(refs.c)).at(-1)!).traceId).not.toBe(traceIdOf(CALLER));
    } finally {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('logs carry the trace', () => {
  it('ctx.log lines on every thread carry the message type, incarnation, trace id and handling span id; crash lines the trace too', async () => {
    const crashTrace = CALLER.replace('4bf9', 'bbbb');
    const supervisedTrace = CALLER.replace('4bf9', 'cccc');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'test/fixtures/traced-logs.ts', CALLER, crashTrace, supervisedTrace], { env: { ...process.env, TROUPE_LOG_LEVEL: 'debug' } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const relays = lines.filter((l) => l.msg === 'relay');
    expect(relays.map((l) => l.actor)).toEqual(['a', 'b', 'a']);
    for (const l of relays) expect(l).toMatchObject({ kind: 'hop', messageType: 'relay', incarnation: 0, trace_id: traceIdOf(CALLER) });
    expect(new Set(relays.map((l) => l.span_id)).size).toBe(3);
    for (const l of relays) expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
    const crashes = lines.filter((l) => l.msg === 'actor crashed');
    expect(crashes).toHaveLength(2);
    expect(crashes[0]).toMatchObject({ actor: 'b', node: 1, trace_id: traceIdOf(crashTrace) });
    expect(crashes[1]).toMatchObject({ actor: 'c', supervisor: 'lab', decision: 'restart', trace_id: traceIdOf(supervisedTrace) });
  }, 30_000);
});

describe('traceparent parsing and children (pure)', () => {
  const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });

  it('a child keeps the trace id and flags, has a new valid span id; a new trace is valid', () => {
    fc.assert(fc.property(hex(32), hex(16), hex(2), (traceId, spanId, flags) => {
      fc.pre(/[1-9a-f]/.test(traceId) && /[1-9a-f]/.test(spanId));
      const tp = `00-${traceId}-${spanId}-${flags}`;
      expect(parseTraceparent(tp)).toBe(tp);
      const child = childTraceparent(tp);
      expect(parseTraceparent(child)).toBe(child);
      expect(child.slice(0, 36)).toBe(tp.slice(0, 36));
      expect(child.slice(52)).toBe(tp.slice(52));
    }), { numRuns: RUNS });
    const fresh = childTraceparent('');
    expect(parseTraceparent(fresh)).toBe(fresh);
    expect(fresh.endsWith('-01')).toBe(true);
  });

  it('accepts a future version with trailing fields (as version 00), refuses what W3C trace context refuses', () => {
    expect(parseTraceparent(`01-${CALLER.slice(3)}-what-comes-next`)).toBe(CALLER);
    expect(parseTraceparent(` ${CALLER} `)).toBe(CALLER);
    for (const bad of [undefined, 42, 'x', `${CALLER}-x`, CALLER.replace('-01', '-1'), CALLER.replace('00-', 'ff-')]) expect(parseTraceparent(bad)).toBeUndefined();
  });
});
