import fc from 'fast-check';
import { expect } from 'vitest';
import { isWorkDraft } from '../../runtime/workcopy.ts';

// The model of nested state shared by the working-copy properties (test/runtime/workcopy*.test.ts): random nested
// states, random mutations applied alike to a draft and to a plain deep-copy reference, and the checks on the result.

export type Json = unknown;
export type Rec = Record<string, Json>;

// Random nested states: records, arrays and Maps (values, replaced whole) of small records and primitives.
export const key = fc.constantFrom('a', 'b', 'c', 'count', 'log', 'items', '0', '__proto__', 'constructor');
export const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null));
export const tree: fc.Arbitrary<Json> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('rec'), tie('arr')),
  rec: fc.array(fc.tuple(key, tie('node')), { maxLength: 4 }).map((kvs) => {
    const o: Rec = {};
    for (const [k, v] of kvs) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
    return o;
  }),
  arr: fc.array(tie('node'), { maxLength: 4 }),
})).node;
// A root of up to 16 keys is copied per message (plain root); a wider one is a proxy like the nodes below it.
export const rootState = fc.tuple(tree, tree, fc.array(fc.tuple(fc.string({ maxLength: 2 }), fc.integer()), { maxLength: 3 }), fc.boolean())
  .map(([a, b, m, wide]) => {
    const root: Rec = { count: 0, a, b, m: new Map(m) };
    if (wide) for (let i = 0; i < 16; i++) root[`w${i}`] = i % 3 === 0 ? { i } : i;
    return root;
  });

/** A path of choices: walked from the root, each picks a child (by index among the keys) while there is one. */
export const path = fc.array(fc.nat(), { maxLength: 4 });
export const op = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path, key, value: tree }),
  fc.record({ op: fc.constant('del' as const), path, key }),
  fc.record({ op: fc.constant('push' as const), path, value: tree }),
  fc.record({ op: fc.constant('splice' as const), path, start: fc.nat(4), del: fc.nat(3), value: tree }),
  // A reordering method's result is the array itself: written through, it is the draft.
  fc.record({ op: fc.constant('reversePush' as const), path, value: tree }),
  fc.record({ op: fc.constant('replace' as const), path, value: tree }),
  // A record of an array changed, then moved by a reordering method (in one message).
  fc.record({ op: fc.constant('editReverse' as const), path, key, value: leaf }),
  fc.record({ op: fc.constant('count' as const) }),
  fc.record({ op: fc.constant('map' as const), k: fc.string({ maxLength: 2 }), v: fc.integer() }),
);
export type Op = { op: string; path?: number[]; key?: string; value?: Json; start?: number; del?: number; k?: string; v?: number };
export const message = fc.record({ ops: fc.array(op, { maxLength: 5 }), throws: fc.boolean() });

export function isObj(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !(v instanceof Map);
}

/** Walk `path` from the root (the same choices on the draft and on the reference pick the same place). */
export function walk(root: Rec, p: readonly number[]): Rec {
  let at: Rec = root;
  for (const choice of p) {
    const ks = Object.keys(at).filter((k) => isObj(at[k]));
    if (ks.length === 0) break;
    at = at[ks[choice % ks.length]] as Rec;
  }
  return at;
}

export function put(o: Rec, k: string, v: unknown): void {
  if (k === '__proto__' || Array.isArray(o)) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** One op, on a draft or on the plain mutable reference alike. Values are fresh copies (no aliasing). */
export function apply(root: Rec, o: Op): void {
  if (o.op === 'count') {
    root.count = (root.count as number) + 1;
    return;
  }
  if (o.op === 'map') {
    root.m = new Map(root.m as Map<string, number>).set(o.k!, o.v!);
    return;
  }
  const at = walk(root, o.path!);
  const value = structuredClone(o.value);
  if (o.op === 'set' && !Array.isArray(at)) put(at, o.key!, value);
  else if (o.op === 'del' && !Array.isArray(at)) delete at[o.key!];
  else if (o.op === 'push' && Array.isArray(at)) at.push(value);
  else if (o.op === 'splice' && Array.isArray(at)) at.splice(o.start!, o.del!, value);
  else if (o.op === 'reversePush' && Array.isArray(at)) at.reverse().push(value);
  else if (o.op === 'editReverse' && Array.isArray(at)) {
    const record = (at as unknown[]).find((v) => isObj(v) && !Array.isArray(v)) as Rec | undefined;
    if (record !== undefined) put(record, o.key!, value);
    at.reverse();
  }
  else if (o.op === 'replace') {
    const ks = Object.keys(at).filter((k) => isObj(at[k]));
    if (ks.length > 0 && !Array.isArray(at)) put(at, ks[0], isObj(value) ? value : { value });
  }
}

/** A write through a kept draft: refused (TypeError) or done on a detached copy (the caller checks the state). */
export function refusedOrInert(write: () => void): void {
  try {
    write();
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
  }
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function expectDeepFrozen(v: unknown, seen = new Set<unknown>()): void {
  if (typeof v !== 'object' || v === null || seen.has(v)) return;
  seen.add(v);
  expect(isWorkDraft(v)).toBe(false);
  expect(Object.isFrozen(v)).toBe(true);
  if (v instanceof Map) {
    expect(() => (v as Map<string, number>).set('x', 1)).toThrow();
    return;
  }
  for (const k of Object.keys(v)) expectDeepFrozen((v as Rec)[k], seen);
}
