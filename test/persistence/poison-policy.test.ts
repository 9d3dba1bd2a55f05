// The poison-message policy (persistence/poison.ts): pure, no store, no threads.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POISON_AFTER, InvalidPersistenceOptionError, replayVerdict, validatePoisonAfter } from '../../persistence/index.ts';

describe('replayVerdict', () => {
  it('a head never replayed before is delivered as a first try, not a suspect', () => {
    expect(replayVerdict(5, undefined, 3)).toEqual({ action: 'deliver', attempts: 1, suspect: false });
  });

  it('a record of another seq is stale (that message completed since): the head starts from zero', () => {
    expect(replayVerdict(5, { seq: 4, attempts: 3 }, 3)).toEqual({ action: 'deliver', attempts: 1, suspect: false });
    expect(replayVerdict(5, { seq: 6, attempts: 9 }, 3)).toEqual({ action: 'deliver', attempts: 1, suspect: false });
  });

  it('the same head again is a suspect, counted up until the limit, then set aside', () => {
    expect(replayVerdict(5, { seq: 5, attempts: 1 }, 3)).toEqual({ action: 'deliver', attempts: 2, suspect: true });
    expect(replayVerdict(5, { seq: 5, attempts: 2 }, 3)).toEqual({ action: 'deliver', attempts: 3, suspect: true });
    expect(replayVerdict(5, { seq: 5, attempts: 3 }, 3)).toEqual({ action: 'poison', attempts: 3 });
    expect(replayVerdict(5, { seq: 5, attempts: 7 }, 3)).toEqual({ action: 'poison', attempts: 7 }); // the limit was lowered
  });

  it('a run of recoveries: a message is handed over poisonAfter times, then never again', () => {
    for (const limit of [1, 2, DEFAULT_POISON_AFTER, 10]) {
      let record: { seq: number; attempts: number } | undefined;
      let handedOver = 0;
      for (let recovery = 0; recovery < limit + 5; recovery++) {
        const v = replayVerdict(9, record, limit);
        if (v.action === 'poison') break;
        handedOver++;
        record = { seq: 9, attempts: v.attempts };
      }
      expect(handedOver).toBe(limit);
    }
  });
});

describe('validatePoisonAfter', () => {
  it('accepts integers >= 1 and refuses anything else with ERR_INVALID_PERSISTENCE_OPTION', () => {
    expect(validatePoisonAfter(1)).toBe(1);
    expect(validatePoisonAfter(DEFAULT_POISON_AFTER)).toBe(3);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '3', null, undefined]) {
      expect(() => validatePoisonAfter(bad)).toThrow(InvalidPersistenceOptionError);
      expect(() => validatePoisonAfter(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PERSISTENCE_OPTION' }));
    }
  });
});
