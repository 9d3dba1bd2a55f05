// Poison messages: a pure policy. A durable message whose handling kills its thread or process (process.exit, a
// fatal error, resource limits) never completes, so it is never consumed: every recovery replays it first and it
// kills again. Production queues bound the delivery count and then set the message aside (SQS maxReceiveCount and
// a dead-letter queue, RabbitMQ's delivery-limit); so do we, but counting only on the recovery path: the steady
// state journals and handles messages without any extra write, and a recovery records, durably and before the
// journal's first message is handed to its handler, that it is about to try that message once more.
//
// What is counted is "replays begun" of the message at the head of a restored journal. The first delivery, in the
// steady state, is not counted (counting it would cost a write per message): so a poison message runs its handler
// at most poisonAfter + 1 times. A crash between the count reaching the disk and the handler starting counts too
// (the count errs high, never low: an undercount could loop forever).
import { InvalidPersistenceOptionError } from './errors.ts';

/** Replays of one message before it is set aside as poison (PersistenceSpec.poisonAfter). */
export const DEFAULT_POISON_AFTER = 3;

/** The count stored per actor: the head of its journal at its last recovery, and how often that was replayed. */
export interface DeliveryRecord {
  readonly seq: number;
  readonly attempts: number;
}

export type ReplayVerdict =
  /**
   * Hand it to its handler after storing `attempts`. `suspect`: it was replayed before and that replay never
   * completed, so it may be the message that kills (runtime/replay.ts tries suspects one at a time per thread).
   */
  | { readonly action: 'deliver'; readonly attempts: number; readonly suspect: boolean }
  /** Do not hand it over again: set it aside (it was replayed `attempts` times). */
  | { readonly action: 'poison'; readonly attempts: number };

/**
 * What to do with `headSeq`, the first message of a restored journal, given the stored record. A record of another
 * seq is stale: the message it counted was handled (or set aside) since, so the head starts from zero.
 */
export function replayVerdict(headSeq: number, recorded: DeliveryRecord | undefined, poisonAfter: number): ReplayVerdict {
  const before = recorded !== undefined && recorded.seq === headSeq ? recorded.attempts : 0;
  if (before >= poisonAfter) return { action: 'poison', attempts: before };
  return { action: 'deliver', attempts: before + 1, suspect: before > 0 };
}

/** Returns poisonAfter if valid (an integer >= 1); throws InvalidPersistenceOptionError otherwise. */
export function validatePoisonAfter(n: unknown): number {
  // 0 would set aside the head of every restored journal, including messages that never ran: never useful.
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidPersistenceOptionError(`poisonAfter must be an integer >= 1, got ${String(n)}`);
  }
  return n;
}
