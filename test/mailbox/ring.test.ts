import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MessageRing, type MessageSink } from '../../mailbox/ring.ts';
import { envelope, type Envelope } from '../../mailbox/envelope.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);

/** What a sink saw, in the shape of an envelope (a plain tell's envelope fields are the defaults). */
type Seen = { whole: Envelope } | { type: string; payload: unknown; from: string };

class Recorder implements MessageSink {
  seen: Seen[] = [];
  /** handleTell answers false (no more at once) when this many messages have been seen. */
  stopAt = Infinity;
  handle(env: Envelope): void {
    this.seen.push({ whole: env });
  }
  handleTell(type: string, payload: unknown, from: string): boolean {
    this.seen.push({ type, payload, from });
    return this.seen.length !== this.stopAt;
  }
}

describe('MessageRing', () => {
  it('keeps plain tells as fields and other messages whole, in one FIFO', () => {
    const ring = new MessageRing();
    const ask = envelope('get', null, 'a', 7, 2, 'm-1');
    const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    ring.pushTell('add', 1, 'a', trace);
    ring.push(ask);
    ring.pushTell('add', { n: 2 }, '');
    expect(ring.size).toBe(3);
    expect(ring.shift()).toEqual({ type: 'add', payload: 1, from: 'a', ask: 0, replyNode: 0, id: '', seq: 0, trace });
    expect(ring.shift()).toBe(ask); // the very envelope, with its ask, reply node and id
    const sink = new Recorder();
    expect(ring.shiftTo(sink)).toBe(true);
    expect(sink.seen).toEqual([{ type: 'add', payload: { n: 2 }, from: '' }]);
    expect(ring.size).toBe(0);
    expect(ring.shift()).toBeUndefined();
    expect(ring.shiftTo(sink)).toBe(false);
    expect(sink.seen.length).toBe(1);
  });

  it('hands a message over only after taking it, so a handler may queue more', () => {
    const ring = new MessageRing();
    const order: unknown[] = [];
    const sink: MessageSink = {
      handle: (env) => order.push(env.payload),
      handleTell: (_type, payload) => {
        order.push(payload);
        if (payload === 1) ring.pushTell('add', 3, ''); // re-entrant: as a handler telling its own actor
        expect(ring.size).toBe(payload === 1 ? 2 : payload === 2 ? 1 : 0);
        return true;
      },
    };
    ring.pushTell('add', 1, '');
    ring.pushTell('add', 2, '');
    while (ring.shiftTo(sink));
    expect(order).toEqual([1, 2, 3]);
    // The same in one run of tells: the tell queued by a handler is handed in the same run.
    order.length = 0;
    ring.pushTell('add', 1, '');
    ring.pushTell('add', 2, '');
    expect(ring.shiftTellsTo(sink, 10)).toBe(3);
    expect(order).toEqual([1, 2, 3]);
  });

  it('a run of tells stops at a whole message, at max, when the sink says so, and when interrupted', () => {
    const ring = new MessageRing();
    const sink = new Recorder();
    for (let i = 0; i < 4; i++) ring.pushTell('add', i, '');
    ring.push(envelope('get', null, 'a', 7, 2));
    ring.pushTell('add', 9, '');
    expect(ring.shiftTellsTo(sink, 3)).toBe(3);
    expect(ring.shiftTellsTo(sink, 3)).toBe(1);
    expect(ring.shiftTellsTo(sink, 3)).toBe(0); // the ask is next: for shiftTo
    expect(ring.shiftTo(sink)).toBe(true);
    sink.stopAt = sink.seen.length + 1;
    ring.pushTell('add', 10, '');
    expect(ring.shiftTellsTo(sink, 10)).toBe(1);
    expect(ring.shiftTellsTo(sink, 10)).toBe(1);
    expect(sink.seen.map((m) => ('whole' in m ? 'ask' : m.payload))).toEqual([0, 1, 2, 3, 'ask', 9, 10]);
    // Interrupted by the sink's own handling (as a handler stopping its actor): the run ends after that message.
    const interrupting: MessageSink = {
      handle: () => undefined,
      handleTell: (_type, payload) => {
        if (payload === 'stop') ring.interrupt();
        return true;
      },
    };
    ring.pushTell('add', 'go', '');
    ring.pushTell('add', 'stop', '');
    ring.pushTell('add', 'after', '');
    expect(ring.shiftTellsTo(interrupting, 10)).toBe(2);
    expect(ring.shiftTellsTo(interrupting, 10)).toBe(1); // a new run is not interrupted by the last one's
  });

  it('allocates no buffer until the first message (idle actors stay small)', () => {
    const a = new MessageRing();
    const b = new MessageRing();
    const buf = (r: MessageRing) => (r as unknown as { buf: unknown[] }).buf;
    expect(buf(a)).toBe(buf(b));
    expect(buf(a).length).toBe(0);
    a.pushTell('x', 1, '');
    expect(buf(a)).not.toBe(buf(b));
    expect(buf(b).length).toBe(0);
  });

  it('behaves as a plain array: FIFO across growth, wrap-around, both kinds and both ways of taking', () => {
    type Op =
      | { op: 'tell'; type: string; payload: number; from: string }
      | { op: 'whole'; type: string; payload: number; ask: number }
      | { op: 'shift' }
      | { op: 'shiftTo' }
      | { op: 'shiftTellsTo'; max: number; stopAfter: number }
      | { op: 'drain' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('tell' as const), type: fc.constantFrom('a', 'b'), payload: fc.integer(), from: fc.constantFrom('', 'x') }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('whole' as const), type: fc.constantFrom('a', 'c'), payload: fc.integer(), ask: fc.nat() }) },
      { weight: 4, arbitrary: fc.constant({ op: 'shift' as const }) },
      { weight: 2, arbitrary: fc.constant({ op: 'shiftTo' as const }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('shiftTellsTo' as const), max: fc.nat(6), stopAfter: fc.integer({ min: 1, max: 6 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const ring = new MessageRing();
      const model: Seen[] = [];
      const sink = new Recorder();
      const asEnvelope = (m: Seen): Envelope => ('whole' in m ? m.whole : envelope(m.type, m.payload, m.from, 0, 0));
      for (const o of ops) {
        switch (o.op) {
          case 'tell':
            ring.pushTell(o.type, o.payload, o.from);
            model.push({ type: o.type, payload: o.payload, from: o.from });
            break;
          case 'whole': {
            const env = envelope(o.type, o.payload, 'w', o.ask, 1, `id-${o.payload}`);
            ring.push(env);
            model.push({ whole: env });
            break;
          }
          case 'shift': {
            const expected = model.shift();
            const got = ring.shift();
            if (expected === undefined) expect(got).toBeUndefined();
            else if ('whole' in expected) expect(got).toBe(expected.whole);
            else expect(got).toEqual(asEnvelope(expected));
            break;
          }
          case 'shiftTo': {
            const expected = model.shift();
            expect(ring.shiftTo(sink)).toBe(expected !== undefined);
            if (expected !== undefined) expect(sink.seen.pop()).toEqual(expected);
            expect(sink.seen.length).toBe(0);
            break;
          }
          case 'shiftTellsTo': {
            // Plain tells from the head, up to max, until a whole message or the sink's no (after stopAfter).
            const expected: Seen[] = [];
            while (expected.length < o.max && model.length > 0 && !('whole' in model[0]) && expected.length < o.stopAfter) {
              expected.push(model.shift()!);
            }
            sink.stopAt = o.stopAfter;
            expect(ring.shiftTellsTo(sink, o.max)).toBe(expected.length);
            expect(sink.seen.splice(0)).toEqual(expected);
            sink.stopAt = Infinity;
            break;
          }
          case 'drain':
            expect(ring.drain()).toEqual(model.splice(0).map(asEnvelope));
            break;
        }
        expect(ring.size).toBe(model.length);
      }
      expect(ring.drain()).toEqual(model.map(asEnvelope));
      expect(ring.size).toBe(0);
    }), { numRuns: runs });
  });
});
