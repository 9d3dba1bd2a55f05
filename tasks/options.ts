// Graph options as given at submit, checked and completed with their defaults.
import { InvalidGraphOptionError } from './errors.ts';
import { DEFAULT_TASK_RETRY } from './graph/retry.ts';
import { checkRetry, validId } from './graph/validate.ts';
import type { DeadlockPolicy, FailurePolicy, GraphOptions, TaskRetry, TaskSpec } from './types.ts';

export type Durability = 'journal' | 'snapshot';

export interface SubmitSpec {
  /** The graph's id (default: generated). */
  id?: string;
  tasks: TaskSpec[];
  failurePolicy?: FailurePolicy;
  deadlock?: DeadlockPolicy;
  concurrency?: number;
  perCapability?: Record<string, number>;
  retry?: TaskRetry;
  timeoutMs?: number;
  /** Publish a TaskEvent per transition on the graph's topic (default true). */
  events?: boolean;
  /** Overrides the manager's `durable` for this graph. */
  durable?: boolean;
  /**
   * How a durable graph is kept: 'journal' (default) journals every outcome (the graph dispatches what an outcome
   * frees as it arrives, while it is journaled; a crash before its commit sends those tasks again, same ids);
   * 'snapshot' journals nothing and snapshots the record every 10 ms: a crash may lose the last ~10 ms of
   * transitions, whose attempts are then sent again with the same message ids, so it suits idempotent workers.
   */
  durability?: Durability;
  routing?: 'router' | 'sticky';
}

const OPTION_KEYS = new Set(['id', 'tasks', 'failurePolicy', 'deadlock', 'concurrency', 'perCapability', 'retry', 'timeoutMs', 'events', 'durable', 'routing', 'durability']);

export function graphOptions(spec: SubmitSpec, durable: boolean): GraphOptions {
  const bad = (option: string, must: string): never => {
    throw new InvalidGraphOptionError(`graph option ${option} ${must}`, { details: { option } });
  };
  if (typeof spec !== 'object' || spec === null) bad('spec', 'must be an object with tasks');
  for (const k of Object.keys(spec)) if (!OPTION_KEYS.has(k)) bad(k, `is not a graph option (known: ${[...OPTION_KEYS].join(', ')})`);
  if (spec.id !== undefined && !validId(spec.id)) bad('id', "must be a non-empty string of at most 200 characters without '/' or NUL");
  const o: GraphOptions = {
    failurePolicy: spec.failurePolicy ?? 'continue-independent',
    deadlock: spec.deadlock ?? 'remove-lowest',
    concurrency: spec.concurrency ?? 64,
    perCapability: { ...(spec.perCapability ?? {}) },
    retry: spec.retry ?? DEFAULT_TASK_RETRY,
    timeoutMs: spec.timeoutMs ?? 60_000,
    durable: spec.durable ?? durable,
    routing: spec.routing ?? 'router',
  };
  if (!['router', 'sticky'].includes(o.routing)) bad('routing', "must be 'router' or 'sticky'");
  if (!['fail-fast', 'continue-independent'].includes(o.failurePolicy)) bad('failurePolicy', "must be 'fail-fast' or 'continue-independent'");
  if (!['remove-lowest', 'reject', 'report'].includes(o.deadlock)) bad('deadlock', "must be 'remove-lowest', 'reject' or 'report'");
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) bad('concurrency', 'must be an integer >= 1');
  for (const [k, v] of Object.entries(o.perCapability)) if (!Number.isInteger(v) || v < 1) bad(`perCapability.${k}`, 'must be an integer >= 1');
  if (!(o.timeoutMs > 0 && Number.isFinite(o.timeoutMs))) bad('timeoutMs', 'must be a finite number > 0');
  checkRetry(o.retry, (m) => new InvalidGraphOptionError(`graph option retry: ${m}`, { details: { option: 'retry' } }));
  return o;
}

