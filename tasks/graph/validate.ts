// Validation of a batch of task specs, before anything is changed: a batch is accepted whole or not at all.
import { pack } from 'msgpackr';
import { assertCloneable } from '../../runtime/cloneable.ts';
import { validateRetryPolicy } from '../../router/policy/retry.ts';
import { DuplicateTaskIdError, InvalidTaskError, TaskPayloadNotStorableError, UnknownDependencyError } from '../errors.ts';
import { toPriority } from '../priority.ts';
import type { TaskDef, TaskSpec } from '../types.ts';

const SPEC_KEYS = new Set(['id', 'type', 'capability', 'target', 'payload', 'priority', 'dependsOn', 'retry', 'timeoutMs']);
/** Task ids go into message ids (`graph/task/attempt`, at most 900 bytes): keep them short. */
const MAX_ID = 200;

export function validId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID && !id.includes('\0') && !id.includes('/');
}

/**
 * Check `specs` against the ids the graph already has (`exists`); the normalised definitions, or a named error
 * for the first task at fault (details.taskId).
 */
export function validateBatch(specs: unknown, exists: (id: string) => boolean, durable: boolean): TaskDef[] {
  if (!Array.isArray(specs)) throw new InvalidTaskError('tasks must be an array of task specs');
  const ids = new Set<string>();
  const defs: TaskDef[] = [];
  for (const spec of specs as unknown[]) {
    const s = spec as TaskSpec;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new InvalidTaskError(`a task spec must be an object (got ${String(spec)})`);
    if (!validId(s.id)) {
      throw new InvalidTaskError(`task id must be a non-empty string of at most ${MAX_ID} characters without '/' or NUL (got ${JSON.stringify(s.id)})`, { details: { taskId: String(s.id) } });
    }
    // (No closure nor bound function per task, nor the spec's key list: under tsx a named closure costs a naming
    // call each time, and what every task allocates here was most of a submit's garbage.)
    const id = s.id;
    for (const k in s) if (!SPEC_KEYS.has(k)) throw badTask(id, `unknown field '${k}' (known: ${[...SPEC_KEYS].join(', ')})`);
    if (ids.has(s.id) || exists(s.id)) throw new DuplicateTaskIdError(`task id '${s.id}' is given twice`, { details: { taskId: s.id } });
    ids.add(s.id);
    if (typeof s.type !== 'string' || s.type === '') throw badTask(id, 'type must be a non-empty string (the message type its worker handles)');
    if ((s.capability === undefined) === (s.target === undefined)) throw badTask(id, 'give exactly one of capability or target');
    if (s.capability !== undefined && (typeof s.capability !== 'string' || s.capability === '')) throw badTask(id, 'capability must be a non-empty string');
    if (s.target !== undefined && (typeof s.target !== 'string' || s.target === '')) throw badTask(id, 'target must be an actor id');
    if (s.timeoutMs !== undefined && !(typeof s.timeoutMs === 'number' && s.timeoutMs > 0 && Number.isFinite(s.timeoutMs))) throw badTask(id, 'timeoutMs must be a finite number > 0');
    if (s.dependsOn !== undefined && !allStrings(s.dependsOn)) throw badTask(id, 'dependsOn must be an array of task ids');
    if (s.retry !== undefined) checkRetry(s.retry, (msg) => badTask(id, msg));
    const priority = toPriority(s.priority, s.id);
    checkStorable(s.payload, s.id, durable);
    const def: TaskDef = { id: s.id, type: s.type, priority, dependsOn: uniqueIds(s.dependsOn) };
    if (s.capability !== undefined) def.capability = s.capability;
    if (s.target !== undefined) def.target = s.target;
    if (s.payload !== undefined) def.payload = s.payload;
    if (s.retry !== undefined) def.retry = s.retry;
    if (s.timeoutMs !== undefined) def.timeoutMs = s.timeoutMs;
    defs.push(def);
  }
  for (const def of defs) {
    for (const dep of def.dependsOn) {
      if (!ids.has(dep) && !exists(dep)) {
        throw new UnknownDependencyError(`task '${def.id}' depends on '${dep}', which is not in the graph`, { details: { taskId: def.id, dependency: dep } });
      }
    }
  }
  return defs;
}

function allStrings(a: unknown): boolean {
  if (!Array.isArray(a)) return false;
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
}

/** The ids once each, in order (a copy: the definition owns its list). */
function uniqueIds(ids: readonly string[] | undefined): string[] {
  if (ids === undefined || ids.length === 0) return [];
  if (ids.length === 1) return [ids[0]];
  return [...new Set(ids)];
}

function badTask(taskId: string, msg: string): Error {
  return new InvalidTaskError(`task '${taskId}': ${msg}`, { details: { taskId } });
}

export function checkRetry(retry: unknown, bad: (msg: string) => Error): void {
  if (retry === undefined || retry === false) return;
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) throw bad('retry must be a retry policy object or false');
  try {
    validateRetryPolicy(retry as Record<string, unknown>);
  } catch (err) {
    throw bad(`retry: ${(err as Error).message}`);
  }
}

/** Cloneable between threads (the kernel's own check) and, when stored in LMDB, msgpack-encodable. */
export function storableProblem(value: unknown, durable: boolean): string | undefined {
  try {
    assertCloneable(value, 'value');
  } catch (err) {
    return (err as Error).message;
  }
  if (!durable || typeof value !== 'object' || value === null) return undefined;
  try {
    pack(value);
  } catch (err) {
    return `not msgpack-encodable: ${(err as Error).message}`;
  }
  return undefined;
}

function checkStorable(payload: unknown, taskId: string, durable: boolean): void {
  const problem = storableProblem(payload, durable);
  if (problem !== undefined) throw new TaskPayloadNotStorableError(`task '${taskId}': payload cannot be stored: ${problem}`, { details: { taskId } });
}
