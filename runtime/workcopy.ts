import { flatRecordShape, isPlainDraftable, recordShape, type Shape, storedObject } from './draft.ts';
import { ALL, copyOf, Node, nodes, openWorks, restoreElements, restoreProperties, setRaw, SNAPSHOT } from './workcopy-node.ts';
import { deepFreeze, frozenValue, settle, settleMoved } from './workcopy-settle.ts';

export { currentOf, deepFreeze, isWorkDraft } from './workcopy-settle.ts';

/**
 * The working copy of a nested state over a run of messages (runtime/cell.ts opens one per run of tells an actor
 * handles in one go), with a savepoint per message (docs/nested-state.md):
 * - A small plain root (up to 16 keys) is a plain object: the handler reads and writes it with no proxy trap; each
 *   message gets a fresh copy of it, and its savepoint is another copy (never handed out); its object values are drafts.
 * - A flat record (a plain object of primitives) read through a draft is lent to the message as a plain copy in
 *   its place (workcopy-node.ts lend): frozen at end(), kept if it changed, else the committed record comes back.
 * - Other objects and arrays (and a wide, array or null-prototype root) are copy-on-write proxies: copied on their
 *   first write in the run, so a 1,000-key map is copied once per run, each write logged for the message's undo.
 * - Rollback: the message's logged writes undone, the root's values put back: the state after the previous message.
 * - Committed state is frozen: what a message stored at its end (end()), the copies of the run at commit().
 * - After commit() the root is frozen and every proxy refuses writes (TypeError): a kept draft changes nothing.
 * Symbol-keyed properties are not state (as on the flat path): dropped at commit at the latest.
 * Maps, Sets, Dates and class instances in the state are values: frozen, read as they are, replaced whole.
 */
export class WorkCopy {
  open = true;
  readonly root: Node;
  /**
   * Set when the root is a small plain record (up to 16 keys, runtime/draft.ts): the root is then a plain object
   * (`root.copy`, the handler's draft), its objects drafts, so the handler's reads and writes of the root are plain
   * property accesses (no proxy trap).
   */
  private readonly plainRoot: boolean;
  /** Plain root: the shape of its keys now (undefined past 16 keys: copied with copyOf). */
  private rootShape: Shape | undefined;
  /**
   * Plain root: its values before the message in progress, a copy no handler has (a throw makes it the root again),
   * and their shape. Each message's draft is a fresh copy: one kept past its message is detached from the state
   * (writes to its own keys change nothing; the last of a run is frozen at commit). A fresh copy per message costs
   * less than checking that the handler did not freeze or lock the draft (Object.isExtensible is a runtime call).
   */
  private saved: Record<string, unknown> | undefined;
  private savedShape: Shape | undefined;
  /** Undo log of the message in progress: container, key, had, old (four slots per write). */
  log: unknown[] = [];
  top = 0;
  /** Where the message in progress stored objects: container, key (two slots each); frozen at end(). */
  fresh: unknown[] = [];
  freshTop = 0;
  /** What reordering array methods of the message in progress may have moved: container, value (two slots each). */
  moved: unknown[] = [];
  movedTop = 0;
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
    this.plainRoot = shape !== undefined;
    this.rootShape = shape;
    if (shape !== undefined) {
      const r = shape.copy!(state) as Record<string, unknown>;
      this.root.copy = r;
      for (const key in r) this.wrapRootValue(r, key, r[key]);
    }
    openWorks.push(this);
  }

  get draft(): object {
    return this.plainRoot ? this.root.copy! : this.root.proxy;
  }

  /** A message starts: its savepoint. */
  begin(): void {
    this.seq++;
    this.top = 0;
    this.freshTop = 0;
    this.movedTop = 0;
    this.lentTop = 0;
    if (this.symbolNodes !== undefined) {
      for (const node of this.symbolNodes) node.syms = undefined;
      this.symbolNodes = undefined;
    }
    if (!this.plainRoot) return;
    // The savepoint: the root's values (its objects are drafts, rolled back through their own undo entries), and
    // the message's draft: both fresh copies of the root as the message before left it (end() checked its keys).
    const r = this.root.copy!;
    const shape = this.rootShape;
    this.savedShape = shape;
    if (shape !== undefined) {
      this.saved = shape.copy!(r) as Record<string, unknown>;
      this.root.copy = shape.copy!(r) as Record<string, unknown>;
    } else {
      this.saved = copyOf(r) as Record<string, unknown>;
      this.root.copy = copyOf(r);
    }
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
    if (this.plainRoot) this.restoreRoot();
    this.top = 0;
    this.freshTop = 0;
    this.movedTop = 0;
    this.lentTop = 0;
  }

  /** Plain root: the savepoint of begin() is the root again (the thrown message's draft is left detached). */
  private restoreRoot(): void {
    const r = this.root.copy!;
    const saved = this.saved!;
    this.root.copy = saved;
    this.rootShape = this.savedShape;
    // What the thrown message stored, frozen: a handler that kept it cannot write it into a later message.
    for (const key of Object.keys(r)) {
      let v: unknown;
      try {
        v = r[key];
      } catch {
        continue; // (a throwing getter the handler defined: nothing it stored)
      }
      if (v !== saved[key]) deepFreeze(v);
    }
  }

  /** The message succeeded: what it stored becomes state (frozen; drafts inside it replaced by their values). */
  end(): void {
    if (this.top > 0) this.dirty = true;
    const lent = this.lent;
    for (let i = 0; i < this.lentTop; i += 5) {
      const node = lent[i] as Node;
      const key = lent[i + 1] as string;
      const record = lent[i + 2] as Record<string, unknown>;
      const copy = lent[i + 3] as Record<string, unknown>;
      // Its place holds the record (the copy is not stored there), or the copy (put there by a reordering method).
      const container = node.copy;
      const now = container === undefined ? record : container[key];
      if (now !== record && now !== copy) {
        settleLent(copy); // replaced or deleted by the handler (those writes are logged), or moved: frozen where it is
        continue;
      }
      // One pass: unchanged (only read)? the same keys? holding objects the handler stored in it?
      const shape = lent[i + 4] as Shape;
      const keys = shape.keys;
      let k = 0;
      let same = true;
      let sameKeys = true;
      let flat = true;
      for (const p in copy) {
        const v = copy[p];
        if (typeof v === 'object' && v !== null) flat = false;
        if (p !== keys[k]) sameKeys = same = false;
        else if (same && !Object.is(v, record[p])) same = false;
        k++;
      }
      if (k !== keys.length) sameKeys = same = false;
      if (same) {
        if (now === copy) setRaw(container!, key, record); // only read: the committed record stays (the copy detached)
        continue;
      }
      node.written = true;
      this.dirty = true;
      const into = container ?? node.prepare();
      if (!flat) setRaw(into, key, settle(copy));
      else this.own(node, into, key, copy, sameKeys ? shape : recordShape(copy));
    }
    const fresh = this.fresh;
    for (let i = 0; i < this.freshTop; i += 2) {
      const node = fresh[i] as Node;
      const key = fresh[i + 1] as string;
      if (key === (ALL as unknown)) {
        if (node.settledAt !== this.seq) settleMoved(node, this.moved, this.movedTop); // (once per array and message)
        node.settledAt = this.seq;
        continue;
      }
      const target = node.copy!;
      if (!Object.prototype.hasOwnProperty.call(target, key)) continue;
      const v = target[key];
      // The common case (an entry appended, a record set): a plain object of primitives, owned by the run as a copy.
      const shape = flatFreshShape(v, this.root.copy);
      if (shape !== undefined) {
        this.own(node, target, key, v as Record<string, unknown>, shape);
        continue;
      }
      const settled = settle(v);
      if (settled !== v) setRaw(target, key, settled);
    }
    if (this.plainRoot) this.endRoot();
    this.top = 0;
    this.freshTop = 0;
    this.movedTop = 0;
    this.lentTop = 0;
  }

  /**
   * A flat record the message made state at (node's copy, key): a copy of it takes its place, owned by the run (no
   * one else has it: a read lends it like a committed record) and frozen when the run is committed (Node.seal), not
   * now. The handler's object is left detached: kept past the message, its writes change nothing. (Object.freeze of
   * a small object is a runtime call, ~35-50 ns; the compiled copy ~3 ns: one freeze per record per run instead of
   * one per message.) Past 16 keys (no compiled copy), it is frozen in place as before.
   */
  private own(node: Node, container: Record<string, unknown>, key: string, v: Record<string, unknown>, shape: Shape | undefined): void {
    if (shape === undefined || shape.copy === undefined) {
      setRaw(container, key, settle(v));
      return;
    }
    const owned = shape.copy(v);
    setRaw(container, key, owned);
    (node.owned ??= []).push(owned);
  }

  /**
   * Plain root: its key list checked (one for-in against the shape), and what the handler stored on it (plain
   * writes) frozen and drafted for the next message (into a copy if the handler locked its draft).
   */
  private endRoot(): void {
    let r = this.root.copy!;
    const saved = this.saved!;
    const before = this.savedShape;
    const shape = Object.getPrototypeOf(r) === Object.prototype ? recordShape(r, before) : undefined;
    this.rootShape = shape;
    if (shape !== undefined && shape === before && !storedObject(shape, r, saved)) return; // the common case
    let stored = false;
    const keys = Object.keys(r);
    for (const key of keys) {
      const v = r[key];
      if (typeof v === 'object' && v !== null && v !== saved[key]) stored = true;
    }
    if (!stored) return;
    if (Object.isExtensible(r)) {
      try {
        this.wrapRootValues(r, keys, saved);
        return;
      } catch {
        // (a key the handler made read-only: wrapped into a copy below)
      }
    }
    // The handler locked its draft: the root goes on as a copy of it (the draft is left detached).
    r = this.root.copy = shape !== undefined ? (shape.copy!(r) as Record<string, unknown>) : copyOf(r);
    this.wrapRootValues(r, keys, saved);
  }

  private wrapRootValues(r: Record<string, unknown>, keys: readonly string[], saved: Record<string, unknown>): void {
    for (const key of keys) {
      const v = r[key];
      if (typeof v === 'object' && v !== null && v !== saved[key]) this.wrapRootValue(r, key, v);
    }
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
    if (this.plainRoot) state = this.sealRoot();
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
    this.moved.length = 0;
    this.lent.length = 0;
    this.top = this.freshTop = this.movedTop = this.lentTop = 0;
    const at = openWorks.indexOf(this);
    if (at >= 0) openWorks.splice(at, 1);
    if (this.plainRoot) Object.freeze(this.root.copy); // a kept draft of the last message refuses writes
  }
}


/**
 * The shape of a plain object of primitives (up to 16 keys) that a message stored (not a plain root's draft,
 * `root`): the run owns a copy of it (WorkCopy.own). (A draft proxy of a flat record passes too: the copy is its
 * value now, read through its traps.)
 */
function flatFreshShape(v: unknown, root: unknown): Shape | undefined {
  if (typeof v !== 'object' || v === null || v === root || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const shape = flatRecordShape(v, lastFresh);
  if (shape !== undefined) lastFresh = shape;
  return shape;
}
/** The shape of the flat record a message last stored (an appending handler stores one shape). */
let lastFresh: Shape = recordShape({})!;

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

/**
 * One working copy (and so one Node) kept alive for the life of the thread. A map (hidden class) that no live object
 * has is freed by a full GC, and V8 then deoptimizes every function whose optimized code checks for it ("weak
 * objects"). A working copy lives for one run, so a full GC between runs (an idle moment; the bench's forced gc
 * between rounds) freed the maps of WorkCopy and Node: begin, end, endRoot and the draft getter were deoptimized at
 * each one and ran re-optimized with worse feedback. Same-thread tells to `{ count, messages }` after a full GC took
 * 143-146 ns CPU a message instead of 80-83 (docs/nested-state.md). Only constructed (its fields are all set there,
 * so it has the final map), not run: its shapes stay out of the feedback of begin and end.
 */
const anchorState = { a: {} };
deepFreeze(anchorState);
export const workCopyAnchor: object = new WorkCopy(anchorState);
(workCopyAnchor as WorkCopy).close();
