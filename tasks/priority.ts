import { InvalidPriorityError } from './errors.ts';

/** The seed's priority levels: higher runs first among ready tasks (FIFO within one priority). */
export const PRIORITY = Object.freeze({ critical: 10, high: 7, medium: 5, low: 3, background: 1 });
export type PriorityName = keyof typeof PRIORITY;
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 10;
export const DEFAULT_PRIORITY = PRIORITY.medium;

/** A priority as given (a name or an integer 1..10, default medium) as its number; InvalidPriorityError otherwise. */
export function toPriority(p: unknown, taskId: string): number {
  if (p === undefined) return DEFAULT_PRIORITY;
  if (typeof p === 'string' && Object.hasOwn(PRIORITY, p)) return PRIORITY[p as PriorityName];
  if (typeof p === 'number' && Number.isInteger(p) && p >= MIN_PRIORITY && p <= MAX_PRIORITY) return p;
  throw new InvalidPriorityError(`task '${taskId}': priority must be an integer ${MIN_PRIORITY}..${MAX_PRIORITY} or one of `
    + `${Object.keys(PRIORITY).join(', ')} (got ${JSON.stringify(p) ?? String(p)})`, { details: { taskId, priority: String(p) } });
}
