import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMailbox, mailboxSpecProblem, RingQueue, type Mailbox, type MessageSink } from '../../mailbox/index.ts';
import { envelope, type Envelope } from '../../mailbox/envelope.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);
const msg = (type: string, payload: unknown = null) => envelope(type, payload, '', 0, 0);

describe('RingQueue', () => {
  it('is FIFO across growth and wrap-around', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer(), fc.constant('shift' as const)), { maxLength: 300 }), (ops) => {
      const q = new RingQueue<number>(2);
      const model: number[] = [];
      for (const op of ops) {
        if (op === 'shift') expect(q.shift()).toBe(model.shift());
        else { q.push(op); model.push(op); }
        expect(q.size).toBe(model.length);
      }
      expect(q.drain()).toEqual(model);
    }), { numRuns: runs });
  });
});

describe('mailboxes', () => {
  it('unbounded FIFO takes everything in order', () => {
    const mb = createMailbox(undefined);
    for (let i = 0; i < 1000; i++) expect(mb.offer(msg('m', i))).toBe(true);
    for (let i = 0; i < 1000; i++) expect(mb.take()?.payload).toBe(i);
    expect(mb.take()).toBeUndefined();
  });

  it('bounded refuses past capacity and reports its overflow policy', () => {
    const mb = createMailbox({ kind: 'bounded', capacity: 2, overflow: 'fail' });
    expect(mb.offer(msg('a'))).toBe(true);
    expect(mb.offer(msg('b'))).toBe(true);
    expect(mb.offer(msg('c'))).toBe(false);
    expect(mb.overflow).toBe('fail');
    expect(createMailbox({ kind: 'bounded', capacity: 1 }).overflow).toBe('drop');
    mb.take();
    expect(mb.offer(msg('d'))).toBe(true);
  });

  it('system messages go ahead of user messages and are never refused', () => {
    const mb = createMailbox({ kind: 'bounded', capacity: 1 });
    mb.offer(msg('user'));
    mb.offerSystem(msg('$stop'));
    mb.offerSystem(msg('$terminated'));
    expect(mb.size).toBe(3);
    expect([mb.take()?.type, mb.take()?.type, mb.take()?.type]).toEqual(['$stop', '$terminated', 'user']);
  });

  it('priority mailbox: higher priority first, FIFO within a priority (a stable sort)', () => {
    const priorities = { low: -1, high: 5, mid: 2 };
    const types = fc.constantFrom('low', 'high', 'mid', 'other');
    fc.assert(fc.property(fc.array(types, { maxLength: 200 }), (sent) => {
      const mb = createMailbox({ kind: 'priority', priorities });
      sent.forEach((t, i) => mb.offer(msg(t, i)));
      const prio = (t: string) => (priorities as Record<string, number>)[t] ?? 0;
      const expected = sent.map((t, i) => ({ t, i })).sort((a, b) => prio(b.t) - prio(a.t) || a.i - b.i).map((x) => x.i);
      const got: unknown[] = [];
      for (let m = mb.take(); m; m = mb.take()) got.push(m.payload);
      expect(got).toEqual(expected);
    }), { numRuns: runs });
  });

  it('drain empties system then user messages', () => {
    const mb = createMailbox({ kind: 'priority', priorities: { a: 1 }, capacity: 10 });
    mb.offer(msg('b', 1));
    mb.offer(msg('a', 2));
    mb.offerSystem(msg('$stop'));
    expect(mb.drain().map((m) => m.type)).toEqual(['$stop', 'a', 'b']);
    expect(mb.size).toBe(0);
  });

  it('rejects malformed specs with a description', () => {
    expect(mailboxSpecProblem({ kind: 'bounded' })).toMatch(/capacity/);
    expect(mailboxSpecProblem({ kind: 'bounded', capacity: 0 })).toMatch(/capacity/);
    expect(mailboxSpecProblem({ kind: 'bounded', capacity: 3, overflow: 'explode' })).toMatch(/overflow/);
    expect(mailboxSpecProblem({ kind: 'priority', priorities: { a: 'x' } })).toMatch(/priorities/);
    expect(mailboxSpecProblem({ kind: 'lifo' })).toMatch(/kind/);
    expect(mailboxSpecProblem({ kind: 'bounded', capacity: 3 })).toBeUndefined();
  });
});

describe('mailboxes: plain tells (queued without an envelope) and takeTo', () => {
  /** Takes every message with takeTo, as an actor does, and reports them as envelopes. */
  const takeAllTo = (mb: Mailbox) => {
    const got: Envelope[] = [];
    const sink: MessageSink = {
      handle: (env) => got.push(env),
      handleTell: (type, payload, from) => got.push(envelope(type, payload, from, 0, 0)) > 0,
    };
    while (mb.takeTo(sink));
    return got;
  };

  it('bounded: a plain tell counts against the capacity like any message', () => {
    const mb = createMailbox({ kind: 'bounded', capacity: 2 });
    expect(mb.offerTell('a', 1, '')).toBe(true);
    expect(mb.offer(msg('b'))).toBe(true);
    expect(mb.offerTell('c', 3, '')).toBe(false);
    expect(mb.offer(msg('d'))).toBe(false);
    mb.offerSystem(msg('$stop'));
    expect(mb.size).toBe(3);
    expect(takeAllTo(mb).map((m) => m.type)).toEqual(['$stop', 'a', 'b']);
    expect(mb.offerTell('e', 5, 'x')).toBe(true);
  });

  it('take, takeTo and takeTellsTo agree with a model: system first, then FIFO (or priority, stable), whatever the mix', () => {
    type Op = { op: 'tell' | 'offer' | 'system' | 'take' | 'takeTo' | 'takeTellsTo'; type: string; max: number };
    const op: fc.Arbitrary<Op> = fc.record({
      op: fc.constantFrom('tell' as const, 'offer' as const, 'system' as const, 'take' as const, 'takeTo' as const, 'takeTellsTo' as const),
      type: fc.constantFrom('low', 'high', 'other'),
      max: fc.nat(4),
    });
    const priorities = { low: -1, high: 5 };
    const prio = (t: string) => (priorities as Record<string, number>)[t] ?? 0;
    fc.assert(fc.property(fc.boolean(), fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (priority, capacity, ops) => {
      const mb = priority ? createMailbox({ kind: 'priority', priorities, capacity }) : createMailbox({ kind: 'bounded', capacity });
      const system: Envelope[] = [];
      let user: { env: Envelope; seq: number }[] = [];
      let seq = 0;
      for (const o of ops) {
        if (o.op === 'take' || o.op === 'takeTo') {
          const expected = system.shift() ?? user.shift()?.env;
          const got = o.op === 'take' ? mb.take() : takeAllOne(mb);
          if (expected === undefined) expect(got).toBeUndefined();
          else expect(got).toEqual(expected);
        } else if (o.op === 'takeTellsTo') {
          // FIFO only (a priority mailbox makes no runs), and never ahead of system mail: the plain tells next in line.
          const expected: Envelope[] = [];
          if (!priority && system.length === 0) {
            while (expected.length < o.max && user.length > 0 && user[0].env.ask === 0) expected.push(user.shift()!.env);
          }
          const got: Envelope[] = [];
          const n = mb.takeTellsTo({
            handle: () => expect.unreachable(),
            handleTell: (type, payload, from) => got.push(envelope(type, payload, from, 0, 0)) > 0,
          }, o.max);
          expect(n).toBe(expected.length);
          expect(got).toEqual(expected);
        } else if (o.op === 'system') {
          const env = envelope(`$${o.type}`, seq++, '', 0, 0);
          mb.offerSystem(env);
          system.push(env);
        } else {
          const env = o.op === 'tell' ? envelope(o.type, seq++, 's', 0, 0) : envelope(o.type, seq++, 's', 9, 1, 'id');
          const accepted = o.op === 'tell' ? mb.offerTell(env.type, env.payload, env.from) : mb.offer(env);
          expect(accepted).toBe(user.length < capacity);
          if (accepted) {
            user.push({ env, seq: env.payload as number });
            if (priority) user = [...user].sort((a, b) => prio(b.env.type) - prio(a.env.type) || a.seq - b.seq);
          }
        }
        expect(mb.size).toBe(system.length + user.length);
      }
      expect(takeAllTo(mb)).toEqual([...system, ...user.map((u) => u.env)]);
    }), { numRuns: runs });

    function takeAllOne(mb: Mailbox): Envelope | undefined {
      let got: Envelope | undefined;
      mb.takeTo({ handle: (env) => (got = env), handleTell: (type, payload, from) => (got = envelope(type, payload, from, 0, 0)) !== undefined });
      return got;
    }
  });

  it('system mail queued while a run of tells is handed (a handler stopping its actor) goes before the rest of the run', () => {
    const mb = createMailbox(undefined);
    for (let i = 0; i < 4; i++) mb.offerTell('add', i, '');
    const got: unknown[] = [];
    const sink: MessageSink = {
      handle: (env) => got.push(env.type),
      handleTell: (_type, payload) => {
        got.push(payload);
        if (payload === 1) mb.offerSystem(msg('$stop'));
        return true;
      },
    };
    expect(mb.takeTellsTo(sink, 10)).toBe(2);
    expect(mb.takeTellsTo(sink, 10)).toBe(0);
    expect(mb.takeTo(sink)).toBe(true);
    expect(mb.takeTellsTo(sink, 10)).toBe(2);
    expect(got).toEqual([0, 1, '$stop', 2, 3]);
  });
});
