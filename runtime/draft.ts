import { freeze } from 'immer';

/** Flat records up to this many keys are copied instead of drafted (copying them is cheaper than a proxy). */
const FLAT_MAX_KEYS = 16;

/**
 * Where an actor keeps its state. `flat` is the state's shape when the state is a flat record committed by
 * commitDraft (frozen, so its shape cannot change): its copier is then at hand, with no check and no lookup.
 * Whoever sets `state` any other way sets `flat` to undefined.
 */
export interface StateSlot {
  state: unknown;
  flat: Shape | undefined;
}

/**
 * Whether the state goes to a working copy (runtime/workcopy.ts) rather than openDraft: a plain object that is not
 * a small flat record, a null-prototype object, an array.
 */
export function isNested(slot: StateSlot): boolean {
  if (slot.flat !== undefined) return false;
  const state = slot.state;
  if (!isDraftableState(state)) return false;
  if (Object.getPrototypeOf(state) !== Object.prototype) return true;
  return flatShape(state, lastLookedUp) === undefined;
}

/**
 * The working copy a handler mutates for one message. Committing it gives the next state; dropping it leaves the
 * state exactly as before the message (that is how a throwing handler is rolled back).
 *
 * Nested state (isNested) goes to a working copy instead (runtime/workcopy.ts: copy-on-write proxies over a run
 * of messages). A small flat record (no object values: a counter, a status) gets a plain shallow copy per message:
 * same semantics (the handler sees a mutable object, the previous state is never touched, the committed state is
 * frozen), at a fraction of the cost of a proxy. Anything else (a primitive, a class instance) is the state itself.
 *
 * The copy is made by a function compiled per key list (an object literal `{"a": s["a"], ...}`), cached: V8 copies
 * a frozen object with `{...s}` on its slow path (~3x the literal). The copy has the state's own enumerable
 * string-keyed properties, in order, like a spread. State is plain data with string keys: symbol-keyed properties
 * are not part of it (snapshots and cross-thread copies drop them too), so a handler's draft never has them, on
 * this path and in a working copy.
 */
export function openDraft(slot: StateSlot): unknown {
  const state = slot.state;
  const flat = slot.flat;
  if (flat !== undefined) return flat.copy!(state as object);
  if (typeof state !== 'object' || state === null) return state;
  if (Object.getPrototypeOf(state) === Object.prototype) {
    const shape = flatShape(state, lastLookedUp);
    if (shape !== undefined) return shape.copy!(state);
  }
  return state;
}

/** Make the working copy opened from `slot` (with openDraft, the slot unchanged since) the slot's next state. */
export function commitDraft(slot: StateSlot, draft: unknown): void {
  const base = slot.state;
  const baseShape = slot.flat;
  // Not known to be a flat copy: the state itself (not draftable) or a flat copy.
  if (baseShape === undefined && draft === base) return;
  // A flat copy from openDraft, most likely still of the base's shape.
  const shape = Object.getPrototypeOf(draft) === Object.prototype ? flatShape(draft as object, baseShape ?? lastLookedUp) : undefined;
  if (shape === undefined) {
    // The handler put objects into a flat record (or changed its prototype): freeze them too, as immer would.
    slot.state = freeze(draft, true);
    slot.flat = undefined;
    return;
  }
  slot.state = Object.freeze(draft as object);
  slot.flat = shape;
}

type Copier = (s: object) => object;

/** A state the working copy handles (runtime/workcopy.ts): a plain object, a null-prototype object or an array. */
export function isDraftableState(state: unknown): state is object {
  return typeof state === 'object' && state !== null && isPlainDraftable(state);
}

export function isPlainDraftable(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === Array.prototype || proto === null;
}

/**
 * The shape of `o` if it is a flat record (a plain object, up to FLAT_MAX_KEYS keys, no object values), checked
 * against `expected` first: a working copy lends such a record to a message as a plain copy (runtime/workcopy.ts).
 */
export function flatRecordShape(o: object, expected: Shape): Shape | undefined {
  const shape = flatShape(o, expected);
  return shape === loopShape ? undefined : shape;
}

/**
 * The shape of `o` (a plain object of up to FLAT_MAX_KEYS keys, whatever its values), checked against `expected`
 * first: the root of a nested state is copied per message with it, like a flat state (runtime/workcopy.ts).
 */
export function recordShape(o: object, expected: Shape = shapes): Shape | undefined {
  const keys = expected.keys;
  let i = 0;
  let same = true;
  for (const key in o) {
    if (i === FLAT_MAX_KEYS) return undefined;
    if (key !== keys[i]) same = false;
    i++;
  }
  if (same && i === keys.length) return expected;
  const shape = find(o);
  return shape === loopShape ? undefined : shape;
}

/** The shape last looked up: a shape check against it is one pass with no lookup. */
let lastLookedUp: Shape;

/** The shape of `o` (a plain object) if it is a flat record, else undefined. */
function flatShape(o: object, expected: Shape): Shape | undefined {
  const keys = expected.keys;
  let i = 0;
  let same = true;
  for (const key in o) {
    const v = (o as Record<string, unknown>)[key];
    if ((typeof v === 'object' && v !== null) || i === FLAT_MAX_KEYS) return undefined;
    if (key !== keys[i]) same = false;
    i++;
  }
  if (same && i === keys.length) return expected;
  return lookUp(o);
}

/** Key lists seen, as a tree of keys: a lookup is one Map.get per key. Bounded (MAX_SHAPE_NODES nodes). */
export interface Shape {
  keys: readonly string[];
  copy: Copier | undefined;
  next: Map<string, Shape> | undefined;
  /** Compiled on first use (storedObject): whether `r` holds an object where `s` holds something else. */
  stored?: StoredCheck | undefined;
}
type StoredCheck = (r: object, s: object) => boolean;
const MAX_SHAPE_NODES = 1024;
const MAX_CACHED_KEY_LENGTH = 256;
const shapes: Shape = { keys: [], copy: () => ({}), next: undefined };
let shapeNodes = 1;
lastLookedUp = shapes;
/** Past the bound: copied by copyLoop (an empty key list: it is the expected shape of nothing). */
const loopShape: Shape = { keys: [], copy: copyLoop, next: undefined };

function lookUp(o: object): Shape {
  return (lastLookedUp = find(o));
}

function find(o: object): Shape {
  let node: Shape | undefined = shapes;
  for (const key in o) {
    node = node.next?.get(key);
    if (node === undefined) break;
  }
  if (node === undefined || node.copy === undefined) node = addShape(Object.keys(o));
  if (node === undefined) return loopShape; // the tree is full, or a key is too long: a generic copy, nothing kept
  return node;
}

function addShape(keys: readonly string[]): Shape | undefined {
  // Long keys (user-controlled text, possibly huge) are not kept in the cache or in compiled source.
  for (const key of keys) if (key.length > MAX_CACHED_KEY_LENGTH) return undefined;
  let node = shapes;
  for (const key of keys) {
    let child = node.next?.get(key);
    if (child === undefined) {
      if (shapeNodes >= MAX_SHAPE_NODES) return undefined;
      shapeNodes++;
      child = { keys: [], copy: undefined, next: undefined };
      (node.next ??= new Map()).set(key, child);
    }
    node = child;
  }
  if (node.copy === undefined) {
    node.keys = keys;
    node.copy = compile(keys);
  }
  return node;
}

/**
 * `s => ({"a": s["a"], ...})` for these keys. Every key is embedded only as a JSON string literal (a valid JS
 * string literal for any string), so no key content is ever evaluated as code. `__proto__` is a computed key: as
 * a plain literal key it would set the prototype instead of defining a property.
 */
function compile(keys: readonly string[]): Copier {
  const props = keys.map((key) => {
    const k = JSON.stringify(key);
    return `${key === '__proto__' ? `[${k}]` : k}: s[${k}]`;
  });
  try {
    return new Function('s', `'use strict'; return {${props.join(', ')}};`) as Copier;
  } catch {
    return copyLoop; // code generation from strings disallowed (node --disallow-code-generation-from-strings)
  }
}

/**
 * Whether `r` (a record of `shape`'s keys) holds an object value at a key where `saved` holds something else: what
 * a working copy's plain root checks at the end of each message (runtime/workcopy.ts), with a function compiled per
 * key list (named loads, no loop). Keys are embedded as JSON string literals only, as in compile().
 */
export function storedObject(shape: Shape, r: object, saved: object): boolean {
  let check = shape.stored;
  if (check === undefined) check = shape.stored = compileStored(shape.keys);
  return check(r, saved);
}

function compileStored(keys: readonly string[]): StoredCheck {
  const tests = keys.map((key) => {
    const k = JSON.stringify(key);
    return `v = r[${k}]; if (typeof v === 'object' && v !== null && v !== s[${k}]) return true;`;
  });
  try {
    return new Function('r', 's', `'use strict'; let v; ${tests.join(' ')} return false;`) as StoredCheck;
  } catch {
    return (r, s) => keys.some((key) => {
      const v = (r as Record<string, unknown>)[key];
      return typeof v === 'object' && v !== null && v !== (s as Record<string, unknown>)[key];
    });
  }
}

/** The generic copy, for shapes past the cache: defines (never assigns, which could hit a setter) each property. */
function copyLoop(s: object): object {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(s)) {
    Object.defineProperty(out, key, { value: (s as Record<string, unknown>)[key], writable: true, enumerable: true, configurable: true });
  }
  return out;
}
