import { freeze as freezeCollection } from 'immer';
import { flatRecordShape, isPlainDraftable, recordShape, type Shape } from './draft.ts';

/**
 * The working copy of a nested state over a run of messages (runtime/cell.ts opens one per run of tells an actor
 * handles in one go), with a savepoint per message. Copy-on-write proxies: a node (a plain object or array of the
 * state) is copied on its first write in the run, not per message, so a 1,000-key map is copied once per run,
 * not once per message, and a handler that only changes `state.count` pays two proxy traps.
 *
 * - Rollback: every write of the message in progress is logged (container, key, old value); a handler that throws
 *   has its writes undone, back to the state after the previous message.
 * - Effects are visible to the next message: it reads the same working copy.
 * - Committed state is frozen: commit() freezes the copies made in the run (the rest is the previous, frozen
 *   state); objects a message stored are frozen when the message ends (end()), so a message cannot change what an
 *   earlier one stored except through a proxy (which logs the write), and a handler that kept one cannot either.
 * - A draft kept past the run refuses writes (DraftClosedError-like TypeError): the committed state never changes.
 * Symbol-keyed properties are not state (as on the flat path): a handler may set them, they last for its message.
 * Maps, Sets, Dates and class instances in the state are values: frozen, read as they are, replaced whole.
 */
export class WorkCopy {
  open = true;
  readonly root: Node;
  /**
   * Set when the root is a small plain record (up to 16 keys, runtime/draft.ts): it is then copied per message like
   * a flat state, with its objects as drafts, so the handler's reads and writes of the root are plain property
   * accesses (no proxy trap). `root.copy` is the draft of the message in progress.
   */
  private rootShape: Shape | undefined;
  /**
   * Plain root: its values before the message in progress (a throw puts them back). The root draft is one object
   * over the run, as a proxy root was: a handler that kept it writes into the message in progress (undone with it if
   * that throws), and once the run is committed it is frozen.
   */
  private saved: Record<string, unknown> | undefined;
  /** Undo log of the message in progress: container, key, had, old (four slots per write). */
  log: unknown[] = [];
  top = 0;
  /** Where the message in progress stored objects: container, key (two slots each); frozen at end(). */
  fresh: unknown[] = [];
  freshTop = 0;
  /** Flat records lent to the message in progress as plain copies: node, key, record, copy, shape (five slots each). */
  lent: unknown[] = [];
  lentTop = 0;
  symbolNodes: Node[] | undefined = undefined;
  /** Counts the messages of the run (Node.touchedAt). */
  seq = 0;
  /** A message of the run ended with writes (else the run commits the state it started from, as it was). */
  dirty = false;

  constructor(state: object) {
    const shape = Object.getPrototypeOf(state) === Object.prototype ? recordShape(state) : undefined;
    this.root = new Node(state, this, undefined, '', shape === undefined);
    this.rootShape = shape;
    if (shape !== undefined) {
      const r = shape.copy!(state) as Record<string, unknown>;
      this.root.copy = r;
      for (const key in r) this.wrapRootValue(r, key, r[key]);
      openRoots.push(this);
    }
  }

  get draft(): object {
    return this.rootShape !== undefined ? this.root.copy! : this.root.proxy;
  }

  /** A message starts: its savepoint. */
  begin(): void {
    this.seq++;
    this.top = 0;
    this.freshTop = 0;
    this.lentTop = 0;
    if (this.symbolNodes !== undefined) {
      for (const node of this.symbolNodes) node.syms = undefined;
      this.symbolNodes = undefined;
    }
    if (this.rootShape === undefined) return;
    let r = this.root.copy!;
    // The handler made its draft non-extensible or changed its prototype: the next message gets a plain copy.
    if (!Object.isExtensible(r) || Object.getPrototypeOf(r) !== Object.prototype) r = this.root.copy = copyOf(r);
    const shape = recordShape(r, this.rootShape);
    if (shape !== undefined) this.rootShape = shape;
    // The savepoint: the root's values (its objects are drafts, rolled back through their own undo entries).
    this.saved = (shape !== undefined ? shape.copy!(r) : copyOf(r)) as Record<string, unknown>;
  }

  /** Undo the writes of the message in progress (newest first). */
  rollback(): void {
    const log = this.log;
    for (let i = this.top - 4; i >= 0; i -= 4) {
      const target = log[i] as Record<PropertyKey, unknown>;
      const key = log[i + 1] as string;
      if (key === (SNAPSHOT as unknown)) {
        if (Array.isArray(target)) restoreElements(target, log[i + 3] as unknown[]);
        else restoreProperties(target, log[i + 3] as Record<string, unknown>);
      }
      else if (log[i + 2] === true) setRaw(target, key, log[i + 3]);
      else delete target[key];
    }
    // Kept copies of the message refuse writes, as its drafts do once committed.
    for (let i = 0; i < this.lentTop; i += 5) Object.freeze(this.lent[i + 3]);
    if (this.rootShape !== undefined) this.restoreRoot();
    this.top = 0;
    this.freshTop = 0;
    this.lentTop = 0;
  }

  /** Plain root: its values back as saved at begin(), in place (a new root object if the handler locked this one). */
  private restoreRoot(): void {
    const r = this.root.copy!;
    const saved = this.saved!;
    // What the thrown message stored, frozen: a handler that kept it cannot write it into a later message.
    for (const key in r) if (r[key] !== saved[key]) deepFreeze(r[key]);
    const keys = Object.keys(saved);
    try {
      if (Object.isExtensible(r) && Object.getPrototypeOf(r) === Object.prototype && Reflect.ownKeys(r).join('\0') === keys.join('\0')) {
        // Defined, not assigned: a key the handler turned into an accessor is a value again, its setter not called.
        for (const key of keys) Object.defineProperty(r, key, { value: saved[key], writable: true, enumerable: true, configurable: true });
        return;
      }
    } catch {
      // (a property the handler defined read-only: the root is rebuilt below)
    }
    Object.freeze(r);
    this.root.copy = copyOf(saved);
  }

  /** The message succeeded: what it stored becomes state (frozen; drafts inside it replaced by their values). */
  end(): void {
    if (this.top > 0) this.dirty = true;
    const lent = this.lent;
    for (let i = 0; i < this.lentTop; i += 5) {
      const node = lent[i] as Node;
      const key = lent[i + 1] as string;
      const copy = lent[i + 3] as Record<string, unknown>;
      const container = node.copy!;
      if (node.touchedAt !== this.seq || container[key] === copy) {
        if (sameRecord(copy, lent[i + 2] as Record<string, unknown>, (lent[i + 4] as Shape).keys)) {
          setRaw(container, key, lent[i + 2]); // only read: the committed record stays
          Object.freeze(copy);
          continue;
        }
        node.written = true;
      }
      settleLent(copy);
    }
    const fresh = this.fresh;
    for (let i = 0; i < this.freshTop; i += 2) {
      const target = fresh[i] as Record<string, unknown>;
      const key = fresh[i + 1] as string;
      if (key === (ALL as unknown)) {
        settleElements(target as unknown as unknown[]);
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(target, key)) continue;
      const v = target[key];
      if (isFlatFresh(v, this.root.copy)) {
        Object.freeze(v); // the common case (an entry appended, a record set): a plain object of primitives
        continue;
      }
      const settled = settle(v);
      if (settled !== v) setRaw(target, key, settled);
    }
    if (this.rootShape !== undefined) {
      // What the handler stored on the root (plain writes): frozen, and drafted for the next message.
      const r = this.root.copy!;
      const saved = this.saved!;
      for (const key in r) {
        const v = r[key];
        if (typeof v === 'object' && v !== null && v !== saved[key]) this.wrapRootValue(r, key, v);
      }
    }
    this.top = 0;
    this.freshTop = 0;
    this.lentTop = 0;
  }

  /** A value on the plain root: settled (frozen, drafts in it replaced by their values) and drafted at its key. */
  private wrapRootValue(r: Record<string, unknown>, key: string, v: unknown): void {
    if (typeof v !== 'object' || v === null) return;
    const n = nodes.get(v);
    if (n !== undefined && n.parent === this.root && n.key === key && n.wc === this) return; // the draft of its place
    const value = n !== undefined ? frozenValue(n) : settle(v);
    if (!isPlainDraftable(value as object)) {
      if (value !== v) setRaw(r, key, value);
      return;
    }
    const kid = new Node(value as object, this, this.root, key, true);
    setRaw(r, key, kid.proxy);
    (this.root.kids ??= []).push(kid);
  }

  /** The run is over: the next committed state (frozen). Every draft of the run refuses writes from now on. */
  commit(): unknown {
    let state: unknown;
    if (this.rootShape !== undefined) state = this.sealRoot();
    else state = this.dirty ? this.root.seal() : this.root.origin;
    this.close();
    return state;
  }

  /** Plain root: its last draft, its drafts replaced by their values, frozen; the committed root if all is the same. */
  private sealRoot(): object {
    const root = this.root;
    let r = root.copy!;
    // Locked by the handler, or holding symbol-keyed properties (not state): committed as a plain copy.
    if (!Object.isExtensible(r) || Object.getPrototypeOf(r) !== Object.prototype || Object.getOwnPropertySymbols(r).length > 0) r = root.copy = copyOf(r);
    const kids = root.kids;
    if (kids !== undefined) {
      for (const kid of kids) if (r[kid.key] === kid.proxy) setRaw(r, kid.key, kid.seal());
    }
    root.kids = undefined;
    Object.freeze(r);
    // Unchanged (same keys in the same order, same values): the committed root itself.
    const base = root.base as Record<string, unknown>;
    const rk = Object.keys(r);
    const bk = Object.keys(base);
    if (rk.length !== bk.length) return r;
    for (let i = 0; i < rk.length; i++) if (rk[i] !== bk[i] || !Object.is(r[rk[i]], base[bk[i]])) return r;
    return base;
  }

  /** Drop the run's writes (the state is replaced from elsewhere: a restart). */
  close(): void {
    this.open = false;
    this.log.length = 0;
    this.fresh.length = 0;
    this.lent.length = 0;
    this.top = this.freshTop = this.lentTop = 0;
    if (this.rootShape !== undefined) {
      const at = openRoots.indexOf(this);
      if (at >= 0) openRoots.splice(at, 1);
      Object.freeze(this.root.copy); // a kept draft of the last message refuses writes
    }
  }
}

/** Open working copies with a plain root: their root draft is a plain object (nodeOf finds it here). */
const openRoots: WorkCopy[] = [];

/** A plain object of primitives that the handler made (not a plain root's draft, `root`): settled by freezing it. */
function isFlatFresh(v: unknown, root: unknown): v is object {
  if (typeof v !== 'object' || v === null || v === root || Object.getPrototypeOf(v) !== Object.prototype || !Object.isExtensible(v)) return false;
  for (const key in v) {
    const c = (v as Record<string, unknown>)[key];
    if (typeof c === 'object' && c !== null) return false;
  }
  return true;
}

/** A lent copy made state: frozen (deeply, drafts replaced, if the handler stored objects in it). */
function settleLent(copy: Record<string, unknown>): void {
  for (const key in copy) {
    const v = copy[key];
    if (typeof v === 'object' && v !== null) {
      settle(copy);
      return;
    }
  }
  Object.freeze(copy);
}

/** `copy` (a flat record lent to a message) has the keys `keys` in order, with the values of `record`. */
function sameRecord(copy: Record<string, unknown>, record: Record<string, unknown>, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in copy) {
    if (key !== keys[i] || !Object.is(copy[key], record[key])) return false;
    i++;
  }
  return i === keys.length;
}

/** Who holds the thread's open working copy (at most one: opening another commits it first). */
export interface WorkHolder {
  /** Commit the open working copy (unless an async handler's message holds it). */
  yieldWork(): void;
}
let holder: WorkHolder | undefined;

/** `h` is about to run a handler: any other actor's open working copy is committed first. */
export function claimWork(h: WorkHolder): void {
  if (holder !== undefined && holder !== h) holder.yieldWork();
  holder = h;
}

/** `h` committed its working copy. */
export function releaseWork(h: WorkHolder): void {
  if (holder === h) holder = undefined;
}

/**
 * Commit the open working copy, if any: the scheduler calls this at the end of every turn, before the event loop
 * runs anything else (a timer, a promise continuation holding a draft), so a run of an actor's messages spans the
 * scheduler's slices within one turn, never beyond it.
 */
export function commitOpenWork(): void {
  holder?.yieldWork();
}

/** Draft proxy -> its node: a lookup with no proxy trap (reading a symbol off the proxy cost a trap per read). */
const nodes = new WeakMap<object, Node>();
const hasOwn = Object.prototype.hasOwnProperty;

/** One object or array of the state as seen in a run: its committed value, its copy once written, its proxy. */
class Node {
  copy: Record<PropertyKey, unknown> | undefined = undefined;
  kids: Node[] | undefined = undefined;
  written = false;
  /** The message (WorkCopy.seq) that last wrote here through the proxy (a lent record is where it was lent else). */
  touchedAt = 0;
  syms: Map<symbol, unknown> | undefined = undefined;
  /** The draft (none for a plain root: WorkCopy.draft). */
  readonly proxy: object;
  /** The committed value this node started from (seal tells a changed node from an unchanged one). */
  readonly origin: object;

  constructor(public base: object, readonly wc: WorkCopy, readonly parent: Node | undefined, readonly key: string, proxied: boolean) {
    this.origin = base;
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
    this.copy = undefined;
    this.kids = undefined;
    this.written = false;
    if (!changed) return this.base;
    return (this.base = Object.freeze(copy));
  }
}

function copyOf(base: object): Record<PropertyKey, unknown> {
  if (Array.isArray(base)) return base.slice() as unknown as Record<PropertyKey, unknown>;
  const proto = Object.getPrototypeOf(base);
  const out = (proto === Object.prototype ? {} : Object.create(proto)) as Record<string, unknown>;
  for (const key in base) {
    if (!hasOwn.call(base, key)) continue;
    setRaw(out, key, (base as Record<string, unknown>)[key]);
  }
  return out;
}

/** A data property, defined when the key is `__proto__` (assigning it would set the prototype). */
function setRaw(o: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

function closed(): TypeError {
  return new TypeError('this draft belongs to a message already committed: it cannot change the state');
}

/** Stored by the message in progress at (container, key)? Scans its few stores (only for unfrozen objects read back). */
function isFresh(wc: WorkCopy, container: object, key: PropertyKey): boolean {
  for (let i = 0; i < wc.freshTop; i += 2) if (wc.fresh[i] === container && wc.fresh[i + 1] === key) return true;
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
  // Committed values are frozen; a draft (a proxy over a node) or an object stored by this message is not.
  if (Object.isExtensible(v)) return v;
  if (!Object.isFrozen(v)) {
    if (isFresh(node.wc, src, key)) return v; // stored by this message: the handler's own object until end()
    deepFreeze(v); // committed but not frozen (a state set from outside): it is state, so it is frozen now
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
  const container = node.copy ?? node.prepare();
  const copy = shape.copy!(record) as Record<string, unknown>;
  const log = wc.log;
  const i = wc.top;
  log[i] = container;
  log[i + 1] = key;
  log[i + 2] = true;
  log[i + 3] = record;
  wc.top = i + 4;
  const lent = wc.lent;
  const j = wc.lentTop;
  lent[j] = node;
  lent[j + 1] = key;
  lent[j + 2] = record;
  lent[j + 3] = copy;
  lent[j + 4] = shape;
  wc.lentTop = j + 5;
  setRaw(container, key, copy);
  return copy;
}

const arrayPush = Array.prototype.push;

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
      const j = wc.freshTop;
      wc.fresh[j] = copy;
      wc.fresh[j + 1] = len + k; // (an index: hasOwnProperty and stores take numbers as keys)
      wc.freshTop = j + 2;
    }
  }
  return copy.length;
}

/** Undo entry of a reordering array method: the array's elements before it. */
const SNAPSHOT = Symbol('troupe.workcopy.snapshot');
/** Fresh entry of a reordering array method: every element may have moved (all are settled at end()). */
const ALL = Symbol('troupe.workcopy.all');

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
    node.written = true;
    node.touchedAt = wc.seq;
    const j = wc.freshTop;
    wc.fresh[j] = copy;
    wc.fresh[j + 1] = ALL;
    wc.freshTop = j + 2;
    return native.apply(copy, args);
  };
}

const arrayMethods = new Map<unknown, unknown>([[arrayPush, fastPush]]);
for (const name of ['splice', 'shift', 'unshift', 'pop', 'reverse', 'sort', 'fill', 'copyWithin'] as const) {
  const native = Array.prototype[name] as unknown as (...args: unknown[]) => unknown;
  arrayMethods.set(native, reordering(native));
}

function restoreElements(a: unknown[], old: unknown[]): void {
  a.length = old.length;
  for (let k = 0; k < old.length; k++) {
    if (k in old) a[k] = old[k];
    else delete a[k];
  }
}

function restoreProperties(o: Record<PropertyKey, unknown>, old: Record<string, unknown>): void {
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
  } else setRaw(copy, key, value);
  if (typeof value === 'object' && value !== null) {
    const j = wc.freshTop;
    wc.fresh[j] = copy;
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
  get: (t, key) => read(t[0], key),
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

/** The draft node behind `value`, if it is a draft of a working copy. */
function nodeOf(value: unknown): Node | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const node = nodes.get(value);
  if (node !== undefined || openRoots.length === 0) return node;
  for (const wc of openRoots) if (wc.root.copy === value) return wc.root;
  return undefined;
}

export function isWorkDraft(value: unknown): boolean {
  return nodeOf(value) !== undefined;
}

/**
 * The value of a draft now, as plain data (unchanged parts are the frozen state itself; copies are not frozen):
 * what a handler sends or replies that is, or holds, its draft.
 */
export function currentOf(value: unknown): unknown {
  const node = nodeOf(value);
  if (node === undefined) return value;
  const src = node.copy;
  if (src === undefined) return node.base;
  const out = copyOf(src);
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (typeof v === 'object' && v !== null) setRaw(out, key, nodeOf(v) !== undefined ? currentOf(v) : Object.isFrozen(v) ? v : plainCurrent(v));
  }
  return out;
}

function plainCurrent(v: object): unknown {
  if (!isPlainDraftable(v)) return v;
  const out = copyOf(v);
  for (const key of Object.keys(out)) {
    const c = out[key];
    if (typeof c === 'object' && c !== null) setRaw(out, key, nodeOf(c) !== undefined ? currentOf(c) : Object.isFrozen(c) ? c : plainCurrent(c));
  }
  return out;
}

/**
 * A value a message stored, made state: drafts in it replaced by their values (sealed), then frozen deeply. An
 * object is frozen before its children are visited, so a cycle ends there.
 */
function settle(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const node = nodeOf(v);
  if (node !== undefined) return frozenValue(node);
  if (Object.isFrozen(v)) return v;
  if (!isPlainDraftable(v)) return settleCollection(v);
  const o = v as Record<string, unknown>;
  let pending: object[] | undefined;
  for (const key of Object.keys(o)) {
    const c = o[key];
    if (typeof c !== 'object' || c === null) continue;
    const n = nodeOf(c);
    if (n !== undefined) setRaw(o, key, frozenValue(n));
    else if (!Object.isFrozen(c)) (pending ??= []).push(c);
  }
  Object.freeze(o);
  if (pending !== undefined) for (const c of pending) settle(c);
  return o;
}

function settleCollection(v: object): unknown {
  if (v instanceof Map) {
    for (const [k, c] of v) if (nodeOf(c) !== undefined) v.set(k, frozenValue(nodeOf(c)!));
  } else if (v instanceof Set) {
    for (const c of [...v]) if (nodeOf(c) !== undefined) { v.delete(c); v.add(frozenValue(nodeOf(c)!)); }
  }
  return freezeCollection(v, true);
}

/**
 * A draft stored somewhere else than where it was read (`state.b = state.a`): the value it has now, frozen, apart
 * from the node (which goes on as the draft at its own place: a later write to `state.a` does not show in `b`).
 */
function frozenValue(node: Node): object {
  const src = node.copy;
  if (src === undefined) return node.base;
  const out = copyOf(src);
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (typeof v === 'object' && v !== null) setRaw(out, key, settle(v));
  }
  return Object.freeze(out);
}

/** After a reordering method: every element settled, but for drafts still at their own place. */
function settleElements(a: unknown[]): void {
  for (let k = 0; k < a.length; k++) {
    const v = a[k];
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) continue; // (frozen: state already)
    const n = nodeOf(v);
    if (n !== undefined && n.parent?.copy === (a as unknown) && n.key === String(k)) continue;
    const settled = settle(v);
    if (settled !== v) a[k] = settled;
  }
}

/** Freeze a whole committed tree (a state from init or a snapshot, frozen once, when first drafted). */
export function deepFreeze(v: unknown, seen: Set<object> = new Set()): void {
  if (typeof v !== 'object' || v === null || seen.has(v) || nodeOf(v) !== undefined) return;
  seen.add(v);
  if (!isPlainDraftable(v)) {
    freezeCollection(v, true);
    return;
  }
  Object.freeze(v);
  for (const key of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[key], seen);
}

