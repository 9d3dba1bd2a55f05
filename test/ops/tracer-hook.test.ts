import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, setMessageTracer, tracerChanged, type MessageSpan, type MessageTracer } from '../../runtime/index.ts';
import type { ActorRef } from '../../actors/define.ts';
import { hop } from '../fixtures/traced.ts';

const CONTEXT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A tracer that counts what the kernel asks of it; `on` is what its recording() answers. */
function countingTracer() {
  const calls = { recording: 0, start: 0, outside: 0, ended: 0 };
  let on = false;
  const tracer: MessageTracer = {
    recording: () => (calls.recording++, on),
    start(parent) {
      calls.start++;
      const span: MessageSpan = {
        traceparent: parent === '' ? CONTEXT : parent,
        end: () => void calls.ended++,
        run: (fn, a, b, c) => fn(a, b, c),
      };
      return span;
    },
    outside: () => (calls.outside++, CONTEXT),
  };
  return { tracer, calls, set: (value: boolean) => void (on = value) };
}

describe('the MessageTracer hook (runtime/tracing.ts): recording() read on install and on tracerChanged()', () => {
  let rt: Runtime;
  let a: ActorRef<typeof hop>;

  beforeAll(async () => {
    rt = await Runtime.start({ workers: 0, spareWorker: false });
    a = await rt.spawn(hop, { id: 'a', pin: 0 });
  });
  afterAll(async () => {
    setMessageTracer(undefined);
    await rt.shutdown();
  });

  it('a tracer that records nothing is never called per message: the exact path of no tracer', async () => {
    const { tracer, calls, set } = countingTracer();
    setMessageTracer(tracer);
    expect(calls.recording).toBe(1); // read once, at install
    for (let i = 0; i < 100; i++) rt.tell(a, 'relay', { route: [] });
    const seen = await rt.ask(a, 'seen');
    expect(calls).toEqual({ recording: 1, start: 0, outside: 0, ended: 0 });
    expect(seen.every((tp) => !tp.includes(CONTEXT.slice(3, 35)))).toBe(true); // no outside context was asked for

    set(true); // not yet told: the kernel still reads its last answer
    rt.tell(a, 'relay', { route: [] });
    await rt.ask(a, 'seen');
    expect(calls.start).toBe(0);

    tracerChanged();
    expect(calls.recording).toBe(2);
    rt.tell(a, 'relay', { route: [] });
    const after = await rt.ask(a, 'seen');
    expect(calls.outside).toBe(2); // the tell and the ask from outside took the caller's context
    expect(calls.start).toBe(2); // a span for each handling
    expect(calls.ended).toBe(2);
    expect(after.at(-1)).toBe(CONTEXT); // the relay handling's own context, from its span

    set(false);
    tracerChanged();
    const before = { ...calls };
    rt.tell(a, 'relay', { route: [] });
    await rt.ask(a, 'seen');
    expect({ start: calls.start, outside: calls.outside }).toEqual({ start: before.start, outside: before.outside });
    expect(setMessageTracer(undefined)).toBe(tracer);
  });
});
