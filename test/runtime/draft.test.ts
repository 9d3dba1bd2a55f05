import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { commitDraft, isNested, openDraft, type StateSlot } from '../../runtime/draft.ts';
import { deepFreeze, isWorkDraft, WorkCopy } from '../../runtime/workcopy.ts';
import { Runtime } from '../../runtime/index.ts';
import { defineActor } from '../../actors/define.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);

type Rec = Record<string, unknown>;

/** Where an actor would keep this state (a state set from outside: its shape is not known yet). */
function slotOf(state: unknown): StateSlot {
  return { state, flat: undefined };
}

/** One message: open a draft, run the handler on it, commit it unless the handler throws (then: rolled back). */
function step(slot: StateSlot, handler: (draft: Rec) => void): unknown {
  if (isNested(slot)) {
    // As a cell does for a nested state: a working copy (here a run of one message).
    deepFreeze(slot.state);
    const work = new WorkCopy(slot.state as object);
    work.begin();
    try {
      handler(work.draft as Rec);
      work.end();
    } catch {
      work.rollback();
    }
    slot.state = work.commit();
    return slot.state;
  }
  const draft = openDraft(slot) as Rec;
  try {
    handler(draft);
  } catch {
    return slot.state;
  }
  commitDraft(slot, draft);
  return slot.state;
}

/** The working copy of a state set from outside, and the state committing it gives. */
function open(state: unknown): unknown {
  return openDraft(slotOf(state));
}
function commit(base: unknown, draft: unknown): unknown {
  const slot = slotOf(base);
  commitDraft(slot, draft);
  return slot.state;
}

/** A data property, defined (assigning '__proto__' would set the prototype instead). */
function put(o: Rec, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

/** The state as data: own enumerable string keys in order and their values. */
function entries(o: object): [string, unknown][] {
  return Object.keys(o).map((k) => [k, (o as Rec)[k]]);
}

function expectSame(actual: object, expected: object): void {
  const a = entries(actual);
  const e = entries(expected);
  expect(a.map(([k]) => k)).toEqual(e.map(([k]) => k));
  a.forEach(([, v], i) => {
    if (typeof v === 'object' && v !== null) expect(v).toEqual(e[i][1]);
    else expect(Object.is(v, e[i][1])).toBe(true);
  });
}

const weirdKeys = ['count', 'a', 'b', '', '1', '10', 'a b', '__proto__', 'constructor', 'toString', '"', "'", '\\',
  '\u2028', '\ud800', '}); globalThis.pwned = 1; ({', '`${globalThis.pwned = 1}`', '];pwned=1;//'];
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...weirdKeys) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const primitive = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null),
  fc.constant(undefined), fc.bigInt(), fc.constantFrom(-0, NaN));
const flatRecord = fc.array(fc.tuple(key, primitive), { maxLength: 18 }).map((kvs) => {
  const o: Rec = {};
  for (const [k, v] of kvs) put(o, k, v);
  return o;
});
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: primitive }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sym' as const), value: primitive }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), key, value: primitive }) },
);
const message = fc.record({ ops: fc.array(op, { maxLength: 6 }), throws: fc.boolean() });

type Op = { op: string; key?: string; value?: unknown };

function run(d: Rec, ops: readonly Op[], isImmer: boolean): void {
  for (const o of ops) {
    if (o.key === '__proto__' && isImmer) continue; // immer drafts refuse defineProperty; assigning would set the prototype
    if (o.op === 'set') put(d, o.key!, o.value);
    else if (o.op === 'del') delete d[o.key!];
    else if (o.op === 'sym') (d as Record<symbol, unknown>)[Symbol('s')] = o.value;
    else put(d, o.key!, { inner: o.value });
  }
}

describe('draft: the working copy of a state for one message', () => {
  it('matches a structuredClone reference for random flat records and random mutations, throws included', () => {
    // Several states taking turns (actors on one thread), so that every memo of the fast path is exercised.
    const turn = fc.record({ which: fc.nat(2), m: message });
    fc.assert(fc.property(fc.array(flatRecord, { minLength: 3, maxLength: 3 }), fc.array(turn, { minLength: 1, maxLength: 24 }), (inits, turns) => {
      const slots = inits.map((init) => slotOf(Object.freeze(init)));
      const references: Rec[] = inits.map((init) => structuredClone(init));
      for (const { which, m } of turns) {
        const before = slots[which].state as object;
        const beforeData = entries(before);
        const isImmer = isNested(slotOf(before));
        const state = step(slots[which], (d) => {
          // A handler's draft has the state's string keys only, and is not the state.
          expect(Object.getOwnPropertySymbols(d)).toEqual([]);
          expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
          expectSame(d, references[which]);
          run(d, m.ops, isImmer);
          if (m.throws) throw new Error('boom');
        });
        // The previous state is never touched.
        expect(entries(before)).toEqual(beforeData);
        expect(Object.isFrozen(before)).toBe(true);
        if (m.throws) {
          expect(state).toBe(before);
          continue;
        }
        const next: Rec = structuredClone(references[which]);
        run(next, m.ops, isImmer);
        references[which] = next;
        expectSame(state as object, next);
        expect(Object.isFrozen(state)).toBe(true);
        for (const [, v] of entries(state as object)) if (typeof v === 'object' && v !== null) expect(Object.isFrozen(v)).toBe(true);
      }
      expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    }), { numRuns: runs });
  });

  it('keys are data, never code; __proto__ is an own property; the prototype stays Object.prototype', () => {
    const evil = '"]}); globalThis.pwned = 1; ({"';
    const init = Object.freeze(JSON.parse(`{"__proto__": 1, ${JSON.stringify(evil)}: 2, "a b": 3, "\\u2028": 4}`) as Rec);
    const slot = slotOf(init);
    for (let i = 0; i < 3; i++) {
      step(slot, (d) => {
        expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
        expect(Object.keys(d)).toEqual(['__proto__', evil, 'a b', '\u2028']);
        expect(d[evil]).toBe(2 + i);
        d[evil] = (d[evil] as number) + 1;
      });
    }
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(slot.state, '__proto__')?.value).toBe(1);
  });

  it('a state with a very long key is copied exactly, without caching or compiling the key', () => {
    const long = 'k'.repeat(100_000);
    const slot = slotOf(Object.freeze({ [long]: 1, n: 0 } as Rec));
    for (let i = 0; i < 3; i++) step(slot, (d) => void (d.n = (d.n as number) + 1));
    expect(slot.state).toEqual({ [long]: 1, n: 3 });
    expect(Object.isFrozen(slot.state)).toBe(true);
  });

  it('values of any type are copied as they are (functions, symbols, bigints, -0, NaN, undefined)', () => {
    const fn = () => 1;
    const sym = Symbol('v');
    const init = Object.freeze({ fn, sym, big: 10n ** 30n, negZero: -0, nan: NaN, undef: undefined });
    const slot = slotOf(init);
    step(slot, (d) => { d.n = 1; });
    step(slot, (d) => { d.n = 2; });
    expectSame(slot.state as object, { ...init, n: 2 });
  });

  it('copies like a spread: enumerable getters are read, non-enumerable properties are not copied', () => {
    const base: Rec = { a: 1 };
    Object.defineProperty(base, 'g', { get: () => 42, enumerable: true });
    Object.defineProperty(base, 'hidden', { value: 7, enumerable: false });
    const state = Object.freeze(base);
    const draft = open(state) as Rec;
    expect(Object.getOwnPropertyDescriptor(draft, 'g')).toEqual({ value: 42, writable: true, enumerable: true, configurable: true });
    expect('hidden' in draft).toBe(false);
    expect(draft).toEqual({ ...state });
  });

  it('only plain objects are copied: class instances are the state itself, null-prototype records go to a working copy', () => {
    class Box { n = 1; }
    const box = new Box();
    expect(open(box)).toBe(box);
    const bare = Object.freeze(Object.assign(Object.create(null) as Rec, { n: 1 }));
    expect(isNested(slotOf(bare))).toBe(true);
    const slot = slotOf(bare);
    step(slot, (d) => {
      expect(isWorkDraft(d)).toBe(true);
      d.n = 2;
    });
    const next = slot.state as Rec;
    expect(Object.getPrototypeOf(next)).toBe(null);
    expect(next.n).toBe(2);
    expect(bare.n).toBe(1);
  });

  it('many shapes: past the copier cache every shape is still copied exactly', () => {
    for (let i = 0; i < 600; i++) {
      const init: Rec = {};
      for (let k = 0; k <= i % 5; k++) init[`k${i}_${k}`] = k;
      const slot = slotOf(Object.freeze(init));
      step(slot, (d) => { d[`k${i}_0`] = -1; d.extra = i; });
      step(slot, (d) => { delete d.extra; });
      expectSame(slot.state as object, { ...init, [`k${i}_0`]: -1 });
      expect(Object.isFrozen(slot.state)).toBe(true);
    }
  });

  it('objects put into a flat record are frozen with it, and the record goes to a working copy from then on', () => {
    const slot = slotOf(Object.freeze({ n: 1 }));
    step(slot, (d) => { d.list = [1, 2]; });
    const state = slot.state;
    expect(Object.isFrozen((state as Rec).list)).toBe(true);
    expect(isNested(slot)).toBe(true);
    step(slot, (d) => {
      expect(isWorkDraft(d)).toBe(true);
      (d.list as number[]).push(3);
    });
    const next = slot.state as Rec;
    expect(next.list).toEqual([1, 2, 3]);
    expect((state as Rec).list).toEqual([1, 2]);
  });

  it('symbol-keyed properties are not part of the state: no draft has them, on every path', () => {
    const s = Symbol('s');
    const paths: Record<string, unknown> = {
      'flat, first copy': Object.freeze({ n: 1, [s]: 1 }),
      nested: Object.freeze({ n: { m: 1 }, [s]: 1 }),
    };
    for (const [, init] of Object.entries(paths)) {
      const slot = slotOf(init);
      step(slot, (draft) => {
        expect(Object.getOwnPropertySymbols(draft)).toEqual([]);
        expect(Object.keys(draft)).toEqual(['n']);
      });
      // Added by a handler: in no later draft (the flat copier's cached path too).
      for (let i = 0; i < 3; i++) {
        step(slot, (d) => {
          expect(Object.getOwnPropertySymbols(d)).toEqual([]);
          (d as Record<symbol, unknown>)[s] = i;
        });
      }
      step(slot, (d) => expect(Object.getOwnPropertySymbols(d)).toEqual([]));
    }
  });

  it('in an actor: rollback on throw, frozen state, a reply that is the draft, symbol keys not kept', async () => {
    const tag = Symbol('tag');
    const probe = defineActor({
      kind: 'draft-probe',
      init: () => ({ n: 0 }),
      handlers: {
        add: (state, by: number) => {
          state.n += by;
        },
        addThenThrow: (state, by: number) => {
          state.n += by;
          throw new Error('rolled back');
        },
        tag: (state) => {
          (state as Record<symbol, unknown>)[tag] = true;
        },
        hasTag: (state) => tag in state,
        self: (state) => state,
      },
    });
    const rt = await Runtime.start({ workers: 0 });
    try {
      const ref = await rt.spawn(probe);
      for (let i = 0; i < 5; i++) rt.tell(ref, 'add', 1);
      await expect(rt.ask(ref, 'addThenThrow', 100)).rejects.toThrow();
      const self = await rt.ask(ref, 'self');
      expect(self).toEqual({ n: 5 });
      expect(Object.isFrozen(self)).toBe(true);
      rt.tell(ref, 'tag');
      expect(await rt.ask(ref, 'hasTag')).toBe(false);
    } finally {
      await rt.shutdown();
    }
  });
});
