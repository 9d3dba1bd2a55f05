import { freeze as freezeCollection } from 'immer';
import { isPlainDraftable } from './draft.ts';
import { copyOf, lentAt, type Node, nodes, openWorks, setRaw } from './workcopy-node.ts';

// What a working copy's drafts become: their values now (a reply, a message sent), frozen state (what a message
// stored, at its end), and the deep freeze of a committed tree.

/** The draft node behind `value`, if it is a draft of a working copy. */
export function nodeOf(value: unknown): Node | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const node = nodes.get(value);
  if (node !== undefined) return node;
  for (const wc of openWorks) if (wc.root.plain && wc.root.copy === value) return wc.root;
  return undefined;
}

/** A flat record lent to the message in progress (a plain copy, unfrozen until the message ends). */
function isLent(value: object): boolean {
  if (!Object.isExtensible(value)) return false;
  for (const wc of openWorks) {
    const lent = wc.lent;
    for (let i = 3; i < wc.lentTop; i += 5) if (lent[i] === value) return true;
  }
  return false;
}

/** A draft of an open working copy: a proxy, a plain root, a lent record (cloneable.undraft takes its value). */
export function isWorkDraft(value: unknown): boolean {
  return nodeOf(value) !== undefined || (typeof value === 'object' && value !== null && isLent(value));
}

/**
 * The value of a draft now, as plain data (unchanged parts are the frozen state itself; copies are not frozen):
 * what a handler sends or replies that is, or holds, its draft.
 */
export function currentOf(value: unknown): unknown {
  const node = nodeOf(value);
  if (node === undefined) return typeof value === 'object' && value !== null && isLent(value) ? plainCurrent(value) : value;
  const src = node.copy;
  const lends = node.wc.open && node.mutableAt === node.wc.seq; // (copies lent from it are not in it: lentAt)
  if (src === undefined && !lends) return node.base;
  const out = copyOf(src ?? node.base);
  for (const key of Object.keys(out)) {
    const c = out[key];
    if (typeof c !== 'object' || c === null) continue;
    const v: object = (lends ? lentAt(node, key, c) : undefined) ?? c;
    setRaw(out, key, nodeOf(v) !== undefined ? currentOf(v) : Object.isFrozen(v) ? v : plainCurrent(v));
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
export function settle(v: unknown): unknown {
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
export function frozenValue(node: Node): object {
  const src = node.copy;
  if (src === undefined) return node.base;
  const out = copyOf(src);
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (typeof v === 'object' && v !== null) setRaw(out, key, settle(v));
  }
  return Object.freeze(out);
}

/**
 * After a reordering method on `node`'s array: its kids that moved from their place and the objects the message put
 * in it (`moved`: container, value pairs, from WorkCopy) settled wherever they are now. Found with indexOf (native):
 * every other element is frozen state already, so no element is checked with Object.isFrozen (a runtime call each).
 */
export function settleMoved(node: Node, moved: unknown[], movedTop: number): void {
  const a = node.copy as unknown as unknown[];
  if (node.kids !== undefined) {
    for (const kid of node.kids) {
      for (let k = a.indexOf(kid.proxy); k >= 0; k = a.indexOf(kid.proxy, k + 1)) if (kid.key !== String(k)) a[k] = frozenValue(kid);
    }
  }
  for (let i = 0; i < movedTop; i += 2) {
    if (moved[i] !== a) continue;
    const v = moved[i + 1];
    for (let k = a.indexOf(v); k >= 0; k = a.indexOf(v, k + 1)) {
      const settled = settle(v);
      if (settled !== v) a[k] = settled;
    }
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
