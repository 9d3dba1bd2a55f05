// A handoff in the traces (ops tracing, troupe/otel): the receiver's run is a span in the sender's trace, the child
// of the sender's run span, across worker threads; so are the sender's own model-turn messages and tool calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BroadcastChannel } from 'node:worker_threads';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { traceIdOf } from '../../runtime/index.ts';
import { installTracing, uninstallTracing } from '../../ops/tracing/index.ts';
import { rules, type RequestView } from '../../agents/model-server/index.ts';
import { spanData, type SpanData } from '../fixtures/otel-span-data.ts';
import { useAsyncLocalContext } from '../fixtures/otel-context-manager.ts';
import { eventually } from '../ops/helpers.ts';
import { coder, dictionary, dispatcher } from './fixtures/team.ts';
import { setup } from './helpers.ts';

const CALLER = '00-5cf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const isCoder = (v: RequestView) => v.request.system === 'You are a coder.';

describe('handoff in the traces', { timeout: 60_000 }, () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const fromWorkers: SpanData[] = [];
  const channel = new BroadcastChannel('troupe-test-spans');
  const spans = (): SpanData[] => [...exporter.getFinishedSpans().map((s) => spanData(s, 0)), ...fromWorkers];

  beforeAll(() => {
    channel.onmessage = (e) => fromWorkers.push((e as unknown as { data: SpanData }).data);
    useAsyncLocalContext();
    trace.setGlobalTracerProvider(provider);
    installTracing({ workerSetup: new URL('../fixtures/otel-worker-setup.ts', import.meta.url) });
  });
  afterAll(async () => {
    uninstallTracing();
    trace.disable();
    context.disable();
    await provider.shutdown();
    channel.close();
  });

  it("the receiver's run is a span in the sender's trace, child of the sender's run span, on another thread", async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when(isCoder, { text: 'coded it' }),
        rules.callTool('define', { word: 'parser' }),
        rules.when((v) => v.offers('handoff'), { toolUse: { name: 'handoff', input: { capability: 'coding', objective: 'ship the parser', progress: 'looked it up', nextSteps: ['write parse()'] } } }),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const sender = await runtime.spawn(dispatcher, { id: 'disp', pin: 1, args: { endpoint: { mode: 'local', baseURL: model.baseURL } } });
    await runtime.spawn(coder, { id: 'coder-1', pin: 2, args: { endpoint: { mode: 'local', baseURL: model.baseURL } } });
    const result = await runtime.ask(sender, 'run', { task: 'write a parser', runId: 'job-1' }, { timeoutMs: 30_000, traceparent: CALLER });
    expect(result.handedOffTo).toEqual({ id: 'coder-1', kind: 'test.coder', runId: 'job-1>coder-1' });

    const traceId = traceIdOf(CALLER);
    const named = (name: string) => spans().filter((s) => s.traceId === traceId && s.name === name);
    const [run, received] = await eventually(() => {
      const r = named('test.dispatcher run');
      const c = named('test.coder run');
      return r.length === 1 && c.length === 1 && [r[0]!, c[0]!];
    }, 10_000, "the sender's and the receiver's run spans");
    expect(run.parentSpanId).toBe(CALLER.slice(36, 52)); // the caller's span
    expect(received.parentSpanId).toBe(run.spanId); // the handoff: asked from inside the sender's run
    expect(received.thread).not.toBe(run.thread);
    expect(received.attributes).toMatchObject({ 'troupe.actor.id': 'coder-1', 'troupe.outcome': 'ok' });
    expect(run.attributes).toMatchObject({ 'troupe.actor.id': 'disp', 'troupe.outcome': 'ok' });
    // the sender's tool call is in the same trace too, a child of its run
    const define = await eventually(() => named('test.dictionary define')[0], 5000, 'the tool call span');
    expect(define.parentSpanId).toBe(run.spanId);
  });
});
