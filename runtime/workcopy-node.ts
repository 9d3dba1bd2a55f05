import { flatRecordShape, recordShape, type Shape } from './draft.ts';
import type { WorkCopy } from './workcopy.ts';
import { deepFreeze, nodeOf } from './workcopy-settle.ts';

// The nodes of a working copy (runtime/workcopy.ts): a copy-on-write proxy per object or array of the state that a
// run reads, the traps that log each write for the message's rollback, and the flat records lent as plain copies.

/** The working copies open on this thread (their plain roots and lent copies are drafts too: workcopy-settle.ts). */
export const openWorks: WorkCopy[] = [];

/** Draft proxy -> its node: a lookup with no proxy trap (reading a symbol off the proxy cost a trap per read). */
export const nodes = new WeakMap<object, Node>();
const hasOwn = Object.prototype.hasOwnProperty;

/** One object or array of the state as seen in a run: its committed value, its copy once written, its proxy. */
export class Node {
  copy: Record<PropertyKey, unknown> | undefined = undefined;
  kids: Node[] | undefined = undefined;
  written = false;
  /** The message (WorkCopy.seq) that last wrote here through the proxy. */
  touchedAt = 0;
  /**
   * The message (WorkCopy.seq) that last put an object that may not be frozen yet into the copy (a lent record, a
   * store, a push): with no kids, every object value is frozen state outside that message (read() checks none).
   */
  mutableAt = 0;
  /** The message (WorkCopy.seq) whose end() last settled what a reordering method moved here (workcopy-settle.ts). */
  settledAt = 0;
  /**
   * The records owned by the run that messages put into the copy (flat records, not frozen yet: WorkCopy.own):
   * seal() freezes them.
   */
  owned: object[] | undefined = undefined;
  syms: Map<symbol, unknown> | undefined = undefined;
  /** The draft (none for a plain root: WorkCopy.draft). */
  readonly proxy: object;
  /** A plain root: no proxy, its draft is `copy` itself (runtime/workcopy.ts). */
  readonly plain: boolean;
  /** The committed value this node started from (seal tells a changed node from an unchanged one). */
  readonly origin: object;

  constructor(public base: object, readonly wc: WorkCopy, readonly parent: Node | undefined, readonly key: string, proxied: boolean) {
    this.origin = base;
    this.plain = !proxied;
    if (proxied) {
      this.proxy = Array.isArray(base) ? new Proxy([this], arrayTraps) : new Proxy(this, objectTraps as ProxyHandler<Node>);
      nodes.set(this.proxy, this);
    } else this.proxy = base;
  }

  prepare(): Record<PropertyKey, unknown> {
    return (this.copy = copyOf(this.base));
  }

  /** This node's value now, frozen; the node goes on from it (a later write in the run copies it again). */
  seal(): object {
    const copy = this.copy;
    if (copy === undefined) return this.base;
    let changed = this.written;
    const kids = this.kids;
    if (kids !== undefined) {
      for (const kid of kids) {
        if (copy[kid.key] !== kid.proxy) continue; // replaced or deleted since
        const v = kid.seal();
        setRaw(copy, kid.key, v);
        if (v !== kid.origin) changed = true;
      }
    }
    if (this.owned !== undefined) freezeOwned(copy, this.owned);
    this.copy = undefined;
    this.kids = undefined;
    this.written = false;
    this.owned = undefined;
    if (!changed) return this.base;
    return (this.base = Object.freeze(copy));
  }
}

/**
 * The records owned by the run that are in `copy` frozen: once per record and run, not once per message. Each one
 * listed (some may have been replaced since: frozen all the same), or, when fewer, every unfrozen value of `copy` (a
 * 1,000-key map changed 10,000 times in a run: 1,000 values looked at; its other values are frozen state already).
 */
function freezeOwned(copy: Record<PropertyKey, unknown>, owned: object[]): void {
  if (Array.isArray(copy)) {
    if (owned.length <= copy.length) for (let i = 0; i < owned.length; i++) Object.freeze(owned[i]);
    else for (let i = 0; i < copy.length; i++) freezeValue(copy[i]);
    return;
  }
  const keys = owned.length < FEW_OWNED ? undefined : Object.keys(copy);
  if (keys === undefined || owned.length <= keys.length) for (let i = 0; i < owned.length; i++) Object.freeze(owned[i]);
  else for (let i = 0; i < keys.length; i++) freezeValue(copy[keys[i]]);
}

const FEW_OWNED = 1024; // (fewer: freezing each listed costs about what listing the keys of a big container does)

function freezeValue(v: unknown): void {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) Object.freeze(v);
}

export function copyOf(base: object): Record<PropertyKey, unknown> {
  if (Array.isArray(base)) return base.slice() as unknown as Record<PropertyKey, unknown>;
  const proto = Object.getPrototypeOf(base);
  const out = (proto === Object.prototype ? {} : Object.create(proto)) as Record<string, unknown>;
  const keys = Object.keys(base);
  if (keys.length > DICTIONARY_KEYS) {
    // A big map: made a dictionary first (a delete does that), so it is not grown through one hidden class per key:
    // copying then freezing a 1,000-key map took ~370 us that way, ~45-90 us this way (node 20).
    out[DICTIONARY_PROBE] = 0;
    delete out[DICTIONARY_PROBE];
  }
  for (let i = 0; i < keys.length; i++) setRaw(out, keys[i], (base as Record<string, unknown>)[keys[i]]);
  return out;
}

const DICTIONARY_KEYS = 64;
const DICTIONARY_PROBE = '\u0000troupe.dictionary';
/**
 * An object with the probe's map, kept: else a full GC frees that map (every object that had it went to dictionary
 * mode at once) and deoptimizes copyOf ("weak objects"; see workCopyAnchor in runtime/workcopy.ts).
 */
const probeMapAnchor: Record<string, unknown> = {};
probeMapAnchor[DICTIONARY_PROBE] = 0;
export const dictionaryProbeAnchor: object = probeMapAnchor;

/** A data property, defined when the key is `__proto__` (assigning it would set the prototype). */
export function setRaw(o: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

function closed(): TypeError {
  return new TypeError('this draft belongs to a message already committed: it cannot change the state');
}

/** Stored by the message in progress at (node, key)? Scans its few stores (only for unfrozen objects read back). */
function isFresh(wc: WorkCopy, node: Node, key: PropertyKey): boolean {
  for (let i = 0; i < wc.freshTop; i += 2) {
    if (wc.fresh[i] !== node) continue;
    const k = wc.fresh[i + 1];
    if (k === key || (typeof k === 'number' && String(k) === key)) return true; // (fastPush keeps indexes as numbers)
  }
  return false;
}

/**
 * The message's own (lent to it, or put into an array by one of its reordering methods: splice, unshift, fill)?
 * Scans its few lent records and moved values.
 */
function isOwnNow(wc: WorkCopy, v: unknown): boolean {
  for (let i = 3; i < wc.lentTop; i += 5) if (wc.lent[i] === v) return true;
  for (let i = 1; i < wc.movedTop; i += 2) if (wc.moved[i] === v) return true;
  return false;
}

function read(node: Node, key: PropertyKey): unknown {
  const src = node.copy ?? node.base;
  if (typeof key === 'symbol') {
    if (node.syms?.has(key)) return node.syms.get(key);
    return hasOwn.call(src, key) ? undefined : (src as Record<symbol, unknown>)[key];
  }
  const v = (src as Record<string, unknown>)[key];
  if (typeof v !== 'object' || v === null || !node.wc.open) return typeof v === 'function' ? (v === arrayPush ? fastPush : (arrayMethods.get(v) ?? v)) : v;
  if (node.mutableAt === node.wc.seq) {
    const lentCopy = lentAt(node, key, v); // read again in its message: the same copy
    if (lentCopy !== undefined) return lentCopy;
  }
  // Committed values are frozen; a draft (a proxy over a node) or an object stored by this message is not. Only a
  // node with kids, or one this message put objects into, can hold those (a WorkCopy's state is deep-frozen): else
  // no check at all (a map of records read one per message); else one runtime call (isFrozen answers at once for an
  // extensible object).
  // Unfrozen: a draft (a kid's proxy), the message's own object until end() (stored, moved in, lent), or else state: a record
  // owned by the run (a message's copy, frozen at commit: lent like a committed record) or a state set from outside.
  if ((node.kids !== undefined || node.mutableAt === node.wc.seq) && !Object.isFrozen(v)) {
    if (isFresh(node.wc, node, key) || isOwnNow(node.wc, v) || nodes.has(v)) return v;
    if (!Object.isExtensible(v)) deepFreeze(v); // committed but not frozen (a state set from outside): frozen now
  }
  // (An inherited value is never a frozen object: a node's prototype is Object.prototype, Array.prototype or null.)
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype) {
    const shape = flatRecordShape(v, lastRecord);
    if (shape !== undefined) return lend(node, key as string, v as Record<string, unknown>, (lastRecord = shape));
  } else if (proto !== Array.prototype && proto !== null) return v; // a Map, a Date...: a value, replaced whole
  const kid = new Node(v, node.wc, node, key as string, true);
  setRaw(node.copy ?? node.prepare(), key, kid.proxy);
  (node.kids ??= []).push(kid);
  return kid.proxy;
}

/** The flat record shape last lent (records of a map mostly share one). */
let lastRecord: Shape = recordShape({})!;

/**
 * A flat record (no object values) read by a message: lent to it as a plain copy (a compiled copy, runtime/draft.ts)
 * in its place, so the handler reads and writes it with no proxy trap (what a map of records is touched with). The
 * place's undo entry is the record; at end() the copy is frozen and stays if it changed, else the record comes back.
 */
function lend(node: Node, key: string, record: Record<string, unknown>, shape: Shape): Record<string, unknown> {
  const wc = node.wc;
  const copy = shape.copy!(record) as Record<string, unknown>;
  const lent = wc.lent;
  const j = wc.lentTop;
  lent[j] = node;
  lent[j + 1] = key;
  lent[j + 2] = record;
  lent[j + 3] = copy;
  lent[j + 4] = shape;
  wc.lentTop = j + 5;
  node.mutableAt = wc.seq;
  return copy;
}

/**
 * The copy of `record` lent to the message in progress at (node, key), if it is still the value there (the copy is
 * not stored in the container: WorkCopy.end puts the changed record there).
 */
export function lentAt(node: Node, key: PropertyKey, record: unknown): Record<string, unknown> | undefined {
  const wc = node.wc;
  const lent = wc.lent;
  for (let i = 0; i < wc.lentTop; i += 5) {
    if (lent[i + 2] === record && lent[i] === node && lent[i + 1] === key) return lent[i + 3] as Record<string, unknown>;
  }
  return undefined;
}

/**
 * Before a reordering method moves the elements of `node`'s array: the copies lent from it put in their places, so
 * they move with the method (WorkCopy.end then settles them wherever they are).
 */
function placeLent(node: Node, copy: Record<string, unknown>): void {
  const wc = node.wc;
  const lent = wc.lent;
  for (let i = 0; i < wc.lentTop; i += 5) {
    if (lent[i] !== node) continue;
    const k = lent[i + 1] as string;
    if (copy[k] === lent[i + 2]) copy[k] = lent[i + 3];
  }
}

const arrayPush = Array.prototype.push;

/**
 * read() for an array draft, with the two reads an appending handler makes (`items.push(...)`, `items.length`)
 * answered first: a named load on the array instead of read()'s keyed one (megamorphic: the stub cache) and its checks.
 */
function readArray(node: Node, key: PropertyKey): unknown {
  if (key === 'length') return (node.copy ?? node.base as unknown as Record<string, unknown>).length;
  if (key === 'push' && node.wc.open && (node.copy ?? node.base as unknown as unknown[]).push === arrayPush) return fastPush;
  return read(node, key);
}

/**
 * `push` on an array draft: one undo entry (the length) and the elements stored on the copy directly, instead of two
 * traps and two entries per element (a transcript's append is most of its handler).
 */
function fastPush(this: unknown[]): number {
  // (`arguments`, not a rest parameter: no array per call for the usual one item)
  const items = arguments as unknown as unknown[];
  const node = nodes.get(this);
  if (node === undefined || !node.wc.open || !Array.isArray(node.base)) return arrayPush.apply(this, items);
  const wc = node.wc;
  const copy = (node.copy ?? node.prepare()) as unknown as unknown[];
  const len = copy.length;
  const i = wc.top;
  wc.log[i] = copy;
  wc.log[i + 1] = 'length';
  wc.log[i + 2] = true;
  wc.log[i + 3] = len;
  wc.top = i + 4;
  node.written = true;
  node.touchedAt = wc.seq;
  for (let k = 0; k < items.length; k++) {
    const v = items[k];
    copy[len + k] = v;
    if (typeof v === 'object' && v !== null) {
      node.mutableAt = wc.seq;
      const j = wc.freshTop;
      wc.fresh[j] = node;
      wc.fresh[j + 1] = len + k; // (an index: hasOwnProperty and stores take numbers as keys)
      wc.freshTop = j + 2;
    }
  }
  return copy.length;
}

/** Undo entry of a reordering array method: the array's elements before it. */
export const SNAPSHOT = Symbol('troupe.workcopy.snapshot');
/** Fresh entry of a reordering array method (its node in the container's slot): elements may have moved (end()). */
export const ALL = Symbol('troupe.workcopy.all');

/**
 * splice, shift, sort... on an array draft: one undo entry (a copy of the elements) and the native method on the
 * copy, instead of two traps and an undo entry per element moved.
 */
function reordering(native: (...args: unknown[]) => unknown): (this: unknown[], ...args: unknown[]) => unknown {
  return function (this: unknown[], ...args: unknown[]): unknown {
    const node = nodeOf(this);
    if (node === undefined || !node.wc.open || !Array.isArray(node.base)) return native.apply(this, args);
    const wc = node.wc;
    const copy = (node.copy ?? node.prepare()) as unknown as unknown[];
    const i = wc.top;
    wc.log[i] = copy;
    wc.log[i + 1] = SNAPSHOT;
    wc.log[i + 2] = true;
    wc.log[i + 3] = copy.slice();
    wc.top = i + 4;
    if (node.mutableAt === wc.seq) placeLent(node, copy as unknown as Record<string, unknown>); // (after the undo entry: it holds the records)
    node.written = true;
    node.touchedAt = wc.seq;
    // What the method may move or put into the array that is not state yet: the message's own stores into it and
    // the method's arguments (everything else in it is frozen state, or a draft of this node: its kids).
    const j = wc.freshTop;
    const fresh = wc.fresh;
    const moved = wc.moved;
    let m = wc.movedTop;
    for (let f = 0; f < j; f += 2) {
      if (fresh[f] !== node) continue;
      const v = copy[fresh[f + 1] as number];
      if (typeof v === 'object' && v !== null) {
        moved[m] = copy;
        moved[m + 1] = v;
        m += 2;
      }
    }
    for (const v of args) {
      if (typeof v === 'object' && v !== null) {
        node.mutableAt = wc.seq;
        moved[m] = copy;
        moved[m + 1] = v;
        m += 2;
      }
    }
    wc.movedTop = m;
    fresh[j] = node;
    fresh[j + 1] = ALL;
    wc.freshTop = j + 2;
    const result = native.apply(copy, args);
    // sort, reverse, fill and copyWithin return the array itself: the draft, not the copy behind it (written
    // through, the copy took unlogged writes and objects that were never frozen).
    return result === copy ? this : result;
  };
}

const arrayMethods = new Map<unknown, unknown>([[arrayPush, fastPush]]);
for (const name of ['splice', 'shift', 'unshift', 'pop', 'reverse', 'sort', 'fill', 'copyWithin'] as const) {
  const native = Array.prototype[name] as unknown as (...args: unknown[]) => unknown;
  arrayMethods.set(native, reordering(native));
}

export function restoreElements(a: unknown[], old: unknown[]): void {
  a.length = old.length;
  for (let k = 0; k < old.length; k++) {
    if (k in old) a[k] = old[k];
    else delete a[k];
  }
}

export function restoreProperties(o: Record<PropertyKey, unknown>, old: Record<string, unknown>): void {
  for (const key of Object.keys(o)) delete o[key];
  for (const key of Object.keys(old)) setRaw(o, key, old[key]);
}

function write(node: Node, key: PropertyKey, value: unknown, define?: PropertyDescriptor): boolean {
  const wc = node.wc;
  if (!wc.open) throw closed();
  if (typeof key === 'symbol') {
    (node.syms ??= new Map()).set(key, define !== undefined ? define.value : value);
    (wc.symbolNodes ??= []).push(node);
    return true;
  }
  const copy = node.copy ?? node.prepare();
  const had = hasOwn.call(copy, key);
  const old = had ? copy[key] : undefined;
  if (define === undefined && had && Object.is(old, value)) return true;
  const log = wc.log;
  const i = wc.top;
  log[i] = copy;
  log[i + 1] = key;
  log[i + 2] = had;
  log[i + 3] = old;
  wc.top = i + 4;
  node.written = true;
  node.touchedAt = wc.seq;
  if (define !== undefined) {
    Object.defineProperty(copy, key, define);
    value = define.value;
    node.mutableAt = wc.seq; // (an accessor's getter may answer anything)
  } else setRaw(copy, key, value);
  if (typeof value === 'object' && value !== null) {
    node.mutableAt = wc.seq;
    const j = wc.freshTop;
    wc.fresh[j] = node;
    wc.fresh[j + 1] = key;
    wc.freshTop = j + 2;
  }
  return true;
}

function remove(node: Node, key: PropertyKey): boolean {
  const wc = node.wc;
  if (!wc.open) throw closed();
  if (typeof key === 'symbol') {
    node.syms?.delete(key);
    return true;
  }
  if (!hasOwn.call(node.copy ?? node.base, key)) return true;
  const copy = node.copy ?? node.prepare();
  const i = wc.top;
  const isArray = Array.isArray(copy);
  // An object's undo entry is its properties before: re-adding the key would put it last (key order is state).
  wc.log[i] = copy;
  wc.log[i + 1] = isArray ? key : SNAPSHOT;
  wc.log[i + 2] = true;
  wc.log[i + 3] = isArray ? copy[key] : copyOf(copy);
  wc.top = i + 4;
  node.written = true;
  node.touchedAt = wc.seq;
  delete copy[key];
  return true;
}

function describe(node: Node, key: PropertyKey): PropertyDescriptor | undefined {
  if (typeof key === 'symbol') {
    return node.syms?.has(key) ? { value: node.syms.get(key), writable: true, enumerable: true, configurable: true } : undefined;
  }
  const src = node.copy ?? node.base;
  const d = Reflect.getOwnPropertyDescriptor(src, key);
  if (d === undefined) return undefined;
  if (key === 'length' && Array.isArray(src)) return { value: src.length, writable: true, enumerable: false, configurable: false };
  return { value: read(node, key), writable: true, enumerable: d.enumerable, configurable: true };
}

function define(node: Node, key: PropertyKey, desc: PropertyDescriptor): boolean {
  // Always configurable (a proxy may not report a non-configurable property its target lacks); accessors kept.
  const d: PropertyDescriptor = desc.get !== undefined || desc.set !== undefined
    ? { get: desc.get, set: desc.set, enumerable: desc.enumerable ?? false, configurable: true }
    : { value: desc.value, writable: desc.writable ?? false, enumerable: desc.enumerable ?? false, configurable: true };
  if (key === 'length' && Array.isArray(node.base)) return write(node, key, desc.value);
  return write(node, key, d.value, d);
}

function has(node: Node, key: PropertyKey): boolean {
  const src = node.copy ?? node.base;
  if (typeof key !== 'symbol') return key in src;
  if (node.syms?.has(key)) return true;
  return !hasOwn.call(src, key) && key in src;
}

function keys(node: Node, target: object): (string | symbol)[] {
  const own = Reflect.ownKeys(node.copy ?? node.base);
  // Symbol keys come last: only a state set from outside has any (they are not state).
  const out: (string | symbol)[] = own.length > 0 && typeof own[own.length - 1] === 'symbol' ? own.filter((k) => typeof k === 'string') : own;
  if (node.syms !== undefined) for (const k of node.syms.keys()) out.push(k);
  void target;
  return out;
}

function refuse(): never {
  throw new TypeError('a state draft cannot change its prototype or be made non-extensible');
}

const objectTraps: ProxyHandler<Node> = {
  get: (node, key) => read(node, key),
  set: (node, key, value) => write(node, key, value),
  deleteProperty: (node, key) => remove(node, key),
  defineProperty: (node, key, desc) => define(node, key, desc),
  has: (node, key) => has(node, key),
  ownKeys: (node) => keys(node, node),
  getOwnPropertyDescriptor: (node, key) => describe(node, key),
  getPrototypeOf: (node) => Object.getPrototypeOf(node.base),
  setPrototypeOf: refuse,
  preventExtensions: refuse,
};

type ArrayTarget = [Node];
const arrayTraps: ProxyHandler<ArrayTarget> = {
  get: (t, key) => readArray(t[0], key),
  set: (t, key, value) => write(t[0], key, value),
  deleteProperty: (t, key) => remove(t[0], key),
  defineProperty: (t, key, desc) => define(t[0], key, desc),
  has: (t, key) => has(t[0], key),
  ownKeys: (t) => keys(t[0], t),
  getOwnPropertyDescriptor: (t, key) => describe(t[0], key),
  getPrototypeOf: (t) => Object.getPrototypeOf(t[0].base),
  setPrototypeOf: refuse,
  preventExtensions: refuse,
};
