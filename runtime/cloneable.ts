import { currentOf, isWorkDraft } from './workcopy.ts';
import { MessageNotCloneableError } from './errors.ts';
import { types } from 'node:util';

const { isProxy } = types;

const cloneableProtos = new Set<unknown>([
  Object.prototype, Array.prototype, null, Date.prototype, RegExp.prototype, Map.prototype, Set.prototype,
  ArrayBuffer.prototype, DataView.prototype, Error.prototype,
]);
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);

/**
 * Throw MessageNotCloneableError where the message is sent if it could not cross a thread intact. Checked for
 * same-thread sends too, so an actor behaves the same wherever it is placed. Rejects functions and symbols, which
 * structured clone refuses, and class instances, which it would silently turn into plain objects (methods lost).
 * Cycles are allowed (structured clone keeps them). Primitives cost one typeof. The label is `what`, or
 * `${what} '${type}'` when a message type is given (built only on failure: this runs for every message).
 */
export function assertCloneable(value: unknown, what: string, type?: string): void {
  if (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol') return;
  if (isPlainData(value)) return;
  const problem = findProblem(value, '', new Set());
  if (problem === undefined) return;
  throw new MessageNotCloneableError(`${type === undefined ? what : `${what} '${type}'`} cannot be sent: ${problem}`);
}

/**
 * What a handler sends or returns may hold pieces of its draft (`return { items: state.items }`, runtime/workcopy.ts);
 * drafts refuse writes once their message is committed and are proxies (which cannot cross a thread), so they are
 * replaced by their values before they leave the handler (a reply: the committed values). Frozen values are
 * committed state and cannot hold drafts, so the walk stops there.
 */
export function undraft<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (isWorkDraft(value)) return currentOf(value) as T;
  if (Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = undraft(value[i]);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const obj = value as Record<string, unknown>;
    for (const key in obj) obj[key] = undraft(obj[key]);
  }
  return value;
}

const PLAIN_WALK_NODES = 256;
const PLAIN_WALK_DEPTH = 16;
let plainBudget = 0; // nodes isPlainData may still visit (module state: no object per message)

/**
 * The common case, cheaply: true when `value` is small acyclic plain data (objects, arrays, primitives) without
 * symbol keys. No seen-set and no paths: a cycle, a deep or big value, or anything else answers false and is
 * left to findProblem, which decides (and says where the problem is).
 */
export function isPlainData(value: unknown): boolean {
  plainBudget = PLAIN_WALK_NODES;
  return plainWalk(value, 0);
}

function plainWalk(value: unknown, depth: number): boolean {
  if (typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (value === null) return true;
  if (--plainBudget < 0 || depth > PLAIN_WALK_DEPTH || isProxy(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    // Every element is charged (a shared big array walked twice, a sparse one of length 2**32 - 1, give up early).
    if ((plainBudget -= array.length) < 0) return false;
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) return false; // a hole: then the key count below could hide an extra property
      if (!plainWalk(array[i], depth + 1)) return false;
    }
    if (Object.getOwnPropertySymbols(value).length > 0) return false;
    // Own enumerable keys list the indices first, ascending, then any other property: with no holes, exactly the
    // indices when their count is the length and the last is the last index (a hidden index cannot make room).
    const keys = Object.keys(value);
    return keys.length === array.length && (keys.length === 0 || keys[keys.length - 1] === String(array.length - 1));
  }
  if (proto !== Object.prototype) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key in value) {
    if (--plainBudget < 0 || !plainWalk((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** The full check alone (no fast path): what is wrong with `value` for a thread hop, if anything. For tests. */
export function cloneProblem(value: unknown): string | undefined {
  return findProblem(value, '', new Set());
}

function findProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'function':
      return `${path || 'value'} is a function`;
    case 'symbol':
      return `${path || 'value'} is a symbol`;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null || seen.has(value)) return undefined;
  // A proxy's traps can say anything about its keys and prototype; structured clone refuses every proxy.
  if (isProxy(value)) return `${path || 'value'} is a Proxy (send plain data)`;
  seen.add(value);
  const proto = Object.getPrototypeOf(value);
  if (!cloneableProtos.has(proto) && Object.getPrototypeOf(proto) !== typedArrayProto && !(value instanceof Error)) {
    return `${path || 'value'} is an instance of ${value.constructor?.name ?? 'a class'} (send plain data)`;
  }
  if (Object.getOwnPropertySymbols(value).length > 0) return `${path || 'value'} has symbol keys`;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const p = findProblem(k, `${path}<key>`, seen) ?? findProblem(v, `${path}.get(${String(k)})`, seen);
      if (p) return p;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const v of value) {
      const p = findProblem(v, `${path}<member>`, seen);
      if (p) return p;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  for (const key of Object.keys(value)) {
    const p = findProblem((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, seen);
    if (p) return p;
  }
  return undefined;
}
