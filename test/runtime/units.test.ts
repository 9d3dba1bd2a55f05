import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Scheduler, TURN_BUDGET, SLICE, type Runnable } from '../../runtime/scheduler.ts';
import { Deadlines } from '../../runtime/deadlines.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { choosePlacement } from '../../runtime/placement.ts';
import { assertCloneable, cloneProblem, isPlainData } from '../../runtime/cloneable.ts';
import { MessageNotCloneableError, reviveError, errorToData, ActorCrashedError } from '../../runtime/errors.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);

class FakeActor implements Runnable {
  queued = false;
  handled = 0;
  constructor(public pending: number, private readonly log: string[], private readonly name: string) {}
  run(budget: number): number {
    const n = Math.min(budget, this.pending);
    this.pending -= n;
    this.handled += n;
    this.log.push(`${this.name}:${n}`);
    return n;
  }
  runnable(): boolean {
    return this.pending > 0;
  }
}

describe('Scheduler', () => {
  it('defers one turn per burst, not one per message, and drains under a budget', () => {
    const deferred: (() => void)[] = [];
    let flushes = 0;
    const s = new Scheduler((fn) => deferred.push(fn), () => flushes++);
    const log: string[] = [];
    const a = new FakeActor(3 * TURN_BUDGET, log, 'a');
    for (let i = 0; i < 100; i++) s.schedule(a);
    expect(deferred.length).toBe(1);
    deferred.shift()!();
    expect(a.handled).toBe(TURN_BUDGET); // yields after the budget
    expect(flushes).toBe(1);
    expect(deferred.length).toBe(1); // and schedules the next turn itself
    deferred.shift()!();
    deferred.shift()!();
    expect(a.handled).toBe(3 * TURN_BUDGET);
    expect(deferred.length).toBe(0);
  });

  it('round-robins ready actors in slices (fairness)', () => {
    const deferred: (() => void)[] = [];
    const s = new Scheduler((fn) => deferred.push(fn), () => {});
    const log: string[] = [];
    const a = new FakeActor(SLICE * 2, log, 'a');
    const b = new FakeActor(SLICE, log, 'b');
    s.schedule(a);
    s.schedule(b);
    deferred.shift()!();
    expect(log).toEqual([`a:${SLICE}`, `b:${SLICE}`, `a:${SLICE}`]);
  });

  it('lets the event loop run once first when asked (a group commit about to start), then handles', () => {
    const deferred: (() => void)[] = [];
    let commitPending = true;
    const s = new Scheduler((fn) => deferred.push(fn), () => {}, () => {
      const pending = commitPending;
      commitPending = false; // once per batch
      return pending;
    });
    const a = new FakeActor(5, [], 'a');
    s.schedule(a);
    deferred.shift()!();
    expect(a.handled).toBe(0); // yielded: the commit goes first
    expect(deferred.length).toBe(1);
    deferred.shift()!();
    expect(a.handled).toBe(5);
    expect(deferred.length).toBe(0);
  });

  it('never lets the event loop run first twice in a row, however often a commit is about to start', () => {
    const deferred: (() => void)[] = [];
    const s = new Scheduler((fn) => deferred.push(fn), () => {}, () => true);
    const a = new FakeActor(TURN_BUDGET + 5, [], 'a');
    s.schedule(a);
    deferred.shift()!(); // yields
    expect(a.handled).toBe(0);
    deferred.shift()!(); // runs
    expect(a.handled).toBe(TURN_BUDGET);
    deferred.shift()!(); // may yield again: the previous turn ran
    deferred.shift()!();
    expect(a.handled).toBe(TURN_BUDGET + 5);
  });
});

describe('Deadlines', () => {
  it('expires each key at its own deadline, in order, with one armed timer', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 50 }), (delays) => {
      const clock = new ManualClock();
      const expired: number[] = [];
      const d = new Deadlines(clock, (k) => expired.push(k));
      delays.forEach((ms, key) => d.add(key, ms));
      clock.advance(1000);
      const expected = delays.map((ms, key) => ({ ms, key })).sort((x, y) => x.ms - y.ms || x.key - y.key).map((x) => x.key);
      expect(expired.slice().sort((x, y) => x - y)).toEqual(expected.slice().sort((x, y) => x - y));
      // never fires before its deadline
      for (let i = 1; i < expired.length; i++) expect(delays[expired[i - 1]]).toBeLessThanOrEqual(delays[expired[i]]);
    }), { numRuns: runs });
  });

  it('does not fire early', () => {
    const clock = new ManualClock();
    const expired: number[] = [];
    const d = new Deadlines(clock, (k) => expired.push(k));
    d.add(1, 100);
    clock.advance(99);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual([1]);
  });
});

describe('Deadlines against a model', () => {
  type Step = { kind: 'add'; ms: number } | { kind: 'settle'; pick: number } | { kind: 'advance'; ms: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({
      kind: fc.constant('add' as const),
      // the usual few timeouts, and many distinct ones (computed, fractional): one lane each
      ms: fc.oneof(fc.constantFrom(0, 5, 50, 5000), fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 300, noNaN: true })),
    }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 200 }) }) },
  );

  it('expires every pending key exactly once, at its deadline, never a settled one', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      const clock = new ManualClock();
      const pending = new Map<number, number>(); // key -> deadline
      const expired: Array<{ key: number; at: number }> = [];
      const d = new Deadlines(clock, (k) => {
        expired.push({ key: k, at: clock.now() });
        pending.delete(k);
      }, { isPending: (k) => pending.has(k), pendingCount: () => pending.size, sweepEvery: 4 });
      let key = 0;
      for (const s of steps) {
        if (s.kind === 'add') {
          pending.set(++key, clock.now() + s.ms);
          d.add(key, s.ms);
        } else if (s.kind === 'settle' && pending.size > 0) {
          pending.delete([...pending.keys()][s.pick % pending.size]);
        } else if (s.kind === 'advance') {
          const expectedNow = [...pending].filter(([, at]) => at <= clock.now() + s.ms).map(([k, at]) => ({ key: k, at }));
          const before = expired.length;
          clock.advance(s.ms);
          const fired = expired.slice(before);
          // exactly the pending keys whose deadline passed, each at its own deadline
          expect(fired.map((e) => e.key).sort((a, b) => a - b)).toEqual(expectedNow.map((e) => e.key).sort((a, b) => a - b));
          for (const e of fired) expect(e.at).toBe(expectedNow.find((x) => x.key === e.key)!.at);
        }
      }
    }), { numRuns: runs });
  });

  it('keeps memory with the pending asks, not with the ask rate times the timeout', () => {
    const clock = new ManualClock();
    const pending = new Set<number>();
    const d = new Deadlines(clock, () => undefined, { isPending: (k) => pending.has(k), pendingCount: () => pending.size });
    for (let key = 1; key <= 100_000; key++) {
      pending.add(key);
      d.add(key, 5000);
      pending.delete(key); // answered at once
    }
    pending.add(100_001);
    d.add(100_001, 5000);
    expect(d.size).toBeLessThan(10_000);
  });

  it('arms the clock timer for pending deadlines, not once per settled ask after the first timeout', () => {
    // One ask at a time, each answered within a millisecond (an agent's turns): 20 s of them, 5 s timeouts.
    const clock = new ManualClock();
    let armed = 0;
    const counting = { now: () => clock.now(), setTimer: (fn: () => void, ms: number) => (armed++, clock.setTimer(fn, ms)), clearTimer: (h: unknown) => clock.clearTimer(h) };
    const pending = new Set<number>();
    const expired: number[] = [];
    const d = new Deadlines(counting, (k) => expired.push(k), { isPending: (k) => pending.has(k), pendingCount: () => pending.size });
    for (let key = 1; key <= 20_000; key++) {
      pending.add(key);
      d.add(key, 5000);
      pending.delete(key);
      clock.advance(1);
    }
    pending.add(0);
    d.add(0, 5000); // one left waiting: still expires at its deadline
    clock.advance(5000);
    expect(expired).toEqual([0]);
    expect(armed).toBeLessThan(20); // was one per ask once the first deadline had passed (10,005)
  });
});

describe('placement', () => {
  const live = () => true;
  it('picks the least-loaded worker, honours pin and near', () => {
    expect(choosePlacement({}, [0, 5, 2, 9], live)).toBe(2);
    expect(choosePlacement({ pin: 3 }, [0, 5, 2, 9], live)).toBe(3);
    expect(choosePlacement({ nearNode: 1 }, [0, 5, 2, 9], live)).toBe(1);
    expect(choosePlacement({}, [7], live)).toBe(0); // no workers: the calling thread
    expect(choosePlacement({}, [0, 1, 5], (n) => n !== 1)).toBe(2); // skips a dead thread
  });
});

describe('cloneability check', () => {
  it('accepts plain data, cycles and built-ins', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const v of [1, 'x', null, undefined, [1, { a: [2] }], new Map([[1, { b: 2 }]]), new Set([1]), new Date(), new Uint8Array(4), cyclic, new Error('e')]) {
      expect(() => assertCloneable(v, 'payload')).not.toThrow();
    }
  });
  it('rejects functions, symbols and class instances with a named error', () => {
    class Thing { x = 1; }
    for (const v of [() => 1, Symbol('s'), { nested: { fn() {} } }, [Symbol.iterator], new Thing(), { [Symbol('k')]: 1 }]) {
      expect(() => assertCloneable(v, 'payload')).toThrow(MessageNotCloneableError);
    }
    try {
      assertCloneable({ a: { b: () => 1 } }, 'payload');
    } catch (e) {
      expect((e as MessageNotCloneableError).code).toBe('ERR_MESSAGE_NOT_CLONEABLE');
      expect((e as Error).message).toMatch(/a\.b is a function/);
    }
  });
});

describe('cloneability fast path', () => {
  it('calls plain data fine only when the full check finds no problem', () => {
    class Thing { x = 1; }
    const odd = fc.oneof(fc.constant(() => 1), fc.constant(Symbol('s')), fc.constant(new Thing()), fc.constant(new Map([[1, 2]])),
      fc.constant(Object.assign([1, 2], { extra: () => 1 })), fc.constant({ [Symbol('k')]: 1 }), fc.constant(new Date(0)),
      // A hole, or an index that is not enumerable, next to an extra property: the key count alone would miss it.
      fc.constant(Object.assign(new Array(1), { fn: () => 1 })), fc.constant(Object.assign([, 2], { fn: () => 1 })),
      fc.constant(Object.defineProperty(Object.assign([1, 2], { fn: () => 1 }), 0, { enumerable: false })));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.anything(), odd, fc.array(tie('node'), { maxLength: 4 }),
        fc.sparseArray(tie('node'), { maxLength: 6 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      // The fast path may give up (false) on fine values; it must never pass a value the full check rejects.
      if (isPlainData(v)) expect(cloneProblem(v)).toBeUndefined();
    }), { numRuns: runs * 4 });
  });
  it('leaves big and deep values to the full check, which still finds the problem', () => {
    let deep: unknown = () => 1;
    for (let i = 0; i < 40; i++) deep = { next: deep };
    expect(() => assertCloneable(deep, 'payload')).toThrow(/is a function/);
    const wide = Array.from({ length: 1000 }, (_, i) => (i === 999 ? Symbol('late') : i));
    expect(() => assertCloneable(wide, 'payload')).toThrow(/999 is a symbol/);
    const lying = new Proxy([1, 2], { ownKeys: () => ['foo', '1', 'length'], get: (t, k) => (k === 'foo' ? () => 1 : Reflect.get(t, k)) });
    expect(isPlainData(lying)).toBe(false);
    expect(() => assertCloneable(new Proxy({ a: 1 }, {}), 'payload')).toThrow(/is a Proxy/); // structuredClone refuses it
    const holey = Object.assign(new Array(1), { fn: () => 1 }); // one key, length 1: the count matches
    expect(isPlainData(holey)).toBe(false);
    expect(() => assertCloneable(holey, 'payload')).toThrow(/fn is a function/);
  });
  it('gives up at once on huge or much-shared arrays instead of walking every element', () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    expect(isPlainData(sparse)).toBe(false); // the full check (Object.keys: no keys) then accepts it
    expect(() => assertCloneable(sparse, 'payload')).not.toThrow();
    const shared = new Array(100).fill(0);
    expect(isPlainData(new Array(10).fill(shared))).toBe(false); // 1000 elements charged: past the budget
  });
});

describe('errors across threads', () => {
  it('revive keeps class, code, message and cause', () => {
    const err = new ActorCrashedError('boom', { cause: new TypeError('inner') });
    const back = reviveError(structuredClone(errorToData(err)));
    expect(back).toBeInstanceOf(ActorCrashedError);
    expect((back as ActorCrashedError).code).toBe('ERR_ACTOR_CRASHED');
    expect((back.cause as Error).message).toBe('inner');
    expect((back.cause as Error).name).toBe('TypeError');
  });
});
