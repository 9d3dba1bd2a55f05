import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMailbox, mailboxSpecProblem, RingQueue } from '../../mailbox/index.ts';
import { envelope } from '../../mailbox/envelope.ts';

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
