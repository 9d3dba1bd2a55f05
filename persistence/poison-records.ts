// The stored forms of the poison bookkeeping (persistence/poison.ts): what a store writes for a delivery count and
// for a message set aside, checked the same way by every store (LMDB's, persistence/store.ts, and the testkit's
// in-memory one), and how a stored delivery count is read back.
import type { PoisonMessage } from './store.ts';
import type { DeliveryRecord } from './poison.ts';
import { checkPart, checkSeq } from './keys.ts';

/** A delivery count as stored: `{ seq, attempts }` only. Throws InvalidStoreKeyError for a bad actor id or seq. */
export function deliveryToStore(actorId: string, record: DeliveryRecord): DeliveryRecord {
  checkPart('actorId', actorId);
  checkSeq(record.seq, 1);
  return { seq: record.seq, attempts: record.attempts };
}

/**
 * A stored delivery count as read back. Unreadable or not a record: none (the head is tried again rather than
 * lost, and the record is overwritten).
 */
export function deliveryFromStore(value: unknown): DeliveryRecord | undefined {
  const v = value as Partial<DeliveryRecord> | undefined;
  return typeof v?.seq === 'number' && typeof v.attempts === 'number' ? { seq: v.seq, attempts: v.attempts } : undefined;
}

/**
 * A message set aside as poison, as stored (keyed by its seq), without a `trace` when it carried none. Throws
 * InvalidStoreKeyError for a bad actor id or seq.
 */
export function poisonToStore(actorId: string, message: PoisonMessage): PoisonMessage {
  checkPart('actorId', actorId);
  checkSeq(message.seq, 1);
  const { seq, id, type, payload, attempts, at, trace } = message;
  return trace === undefined || trace === '' ? { seq, id, type, payload, attempts, at } : { seq, id, type, payload, attempts, at, trace };
}
