import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BroadcastChannel } from 'node:worker_threads';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Runtime, traceIdOf } from '../../runtime/index.ts';
import type { ActorRef } from '../../actors/define.ts';
import { installTracing, uninstallTracing, TracingSetupError, PROVIDER_CHECK_MS } from '../../ops/tracing/index.ts';
import { hop, type Step } from '../fixtures/traced.ts';
import { spanData, type SpanData } from '../fixtures/otel-span-data.ts';
import { useAsyncLocalContext } from '../fixtures/otel-context-manager.ts';
import { eventually } from './helpers.ts';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('OpenTelemetry spans per handled message (troupe/otel)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const fromWorkers: SpanData[] = [];
  const channel = new BroadcastChannel('troupe-test-spans');
  let rt: Runtime;
  let refs: Record<'a' | 'b' | 'c' | 'd', ActorRef<typeof hop>>;

  /** Every finished span so far, from the main thread (in memory) and the workers (their exporters post them). */
  const spans = (): SpanData[] => [...exporter.getFinishedSpans().map((s) => spanData(s, 0)), ...fromWorkers];
  const inTrace = (traceId: string) => spans().filter((s) => s.traceId === traceId);

  beforeAll(async () => {
    channel.onmessage = (e) => fromWorkers.push((e as unknown as { data: SpanData }).data);
    useAsyncLocalContext();
    trace.setGlobalTracerProvider(provider);
    installTracing({ workerSetup: new URL('../fixtures/otel-worker-setup.ts', import.meta.url) });
    rt = await Runtime.start({ workers: 2, spareWorker: false });
    const pins = { a: 0, b: 1, c: 2, d: 1 } as const;
    refs = Object.fromEntries(await Promise.all(Object.entries(pins).map(async ([id, pin]) => [id, await rt.spawn(hop, { id, pin })]))) as typeof refs;
  });
  afterAll(async () => {
    await rt.shutdown();
    uninstallTracing();
    trace.disable();
    context.disable();
    await provider.shutdown();
    channel.close();
  });

  it('a chain across three threads is one trace: each handling a CONSUMER span, child of the span that sent it', async () => {
    const { a, b, c, d } = refs;
    const route: Step[] = [{ to: b, how: 'tell' }, { to: c, how: 'ask' }, { to: d, how: 'send' }, { to: a, how: 'tell' }];
    rt.inTrace(CALLER, () => rt.tell(a, 'relay', { route }));
    const traceId = traceIdOf(CALLER);
    const chain = await eventually(() => { const s = inTrace(traceId); return s.length === 5 && s; }, 10_000, 'five spans');
    // The handlings, in the order of the chain: each one's parent is the span before it; the first's is the caller's.
    const byParent = new Map(chain.map((s) => [s.parentSpanId, s]));
    let parent = CALLER.slice(36, 52);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = byParent.get(parent);
      expect(s, `a span whose parent is ${parent}`).toBeDefined();
      order.push(`${s!.attributes['troupe.actor.id']}@${s!.thread === 0 ? 0 : 'worker'}`);
      expect(s).toMatchObject({ name: 'hop relay', status: 0, attributes: { 'troupe.actor.kind': 'hop', 'troupe.message.type': 'relay', 'troupe.outcome': 'ok' } });
      parent = s!.spanId;
    }
    expect(order).toEqual(['a@0', 'b@worker', 'c@worker', 'd@worker', 'a@0']);
    expect(new Set(chain.map((s) => s.thread)).size).toBe(3);
    // What the handlers saw as their context is their span's.
    const seenByB = (await rt.ask(b, 'seen')).at(-1)!;
    expect(chain.some((s) => s.attributes['troupe.actor.id'] === 'b' && s.spanId === seenByB.slice(36, 52))).toBe(true);
  });

  it('a crash ends its span with an error status, the exception and outcome crashed', async () => {
    await rt.ask(refs.b, 'crash', undefined, { traceparent: CALLER.replace('4bf9', 'aaaa') }).catch(() => undefined);
    const [crash] = await eventually(() => { const s = inTrace(traceIdOf(CALLER.replace('4bf9', 'aaaa'))); return s.length === 1 && s; }, 5000, 'the crash span');
    expect(crash).toMatchObject({ name: 'hop crash', status: 2, statusMessage: 'traced crash', attributes: { 'troupe.outcome': 'crashed' }, events: ['exception'] });
  });

  it('a handler runs inside its span: the active span before and after an await, the parent of a span it starts', async () => {
    for (const [ref, n] of [[refs.a, 'e1'], [refs.b, 'e2']] as const) { // the main thread, a worker
      const tp = CALLER.replace('4bf9', n + 'e1');
      const seen = await rt.ask(ref, 'active', undefined, { traceparent: tp });
      const handling = await eventually(() => spans().find((s) => s.name === 'hop active' && s.traceId === traceIdOf(tp)), 5000, 'the handling span');
      expect(seen.before, ref.id).toBe(handling.spanId);
      expect(seen.after, ref.id).toBe(handling.spanId);
      const own = await eventually(() => spans().find((s) => s.spanId === seen.own), 5000, 'the handler\'s own span');
      expect(own).toMatchObject({ name: 'handler work', traceId: traceIdOf(tp), parentSpanId: handling.spanId });
    }
  });

  it('a message from outside with no context starts a new trace: a root span', async () => {
    const before = new Set(spans().map((s) => s.spanId));
    await rt.ask(refs.c, 'relay', { route: [] });
    const [root] = await eventually(() => { const s = spans().filter((x) => !before.has(x.spanId) && x.attributes['troupe.actor.id'] === 'c'); return s.length === 1 && s; }, 5000, 'a root span');
    expect(root!.parentSpanId).toBeUndefined();
  });

  it('records nothing while no provider is registered, and still carries the trace', async () => {
    trace.disable();
    await new Promise((r) => setTimeout(r, 3 * PROVIDER_CHECK_MS)); // each thread's tracer looks again
    const before = exporter.getFinishedSpans().length;
    await rt.ask(refs.a, 'relay', { route: [] }, { traceparent: CALLER });
    expect(traceIdOf((await rt.ask(refs.a, 'seen')).at(-1)!)).toBe(traceIdOf(CALLER));
    expect(exporter.getFinishedSpans().length).toBe(before);
    trace.setGlobalTracerProvider(provider);
    await new Promise((r) => setTimeout(r, 3 * PROVIDER_CHECK_MS));
    await rt.ask(refs.a, 'relay', { route: [] }, { traceparent: CALLER.replace('4bf9', 'cccc') });
    expect(exporter.getFinishedSpans().length).toBe(before + 1); // registered again: recording again
  });

  it('refuses a workerSetup that is neither a URL nor a path', () => {
    expect(() => installTracing({ workerSetup: '' })).toThrow(TracingSetupError);
  });
});
