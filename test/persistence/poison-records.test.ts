// The stored forms of the poison bookkeeping, shared by the LMDB store and the testkit's in-memory store.
import { describe, expect, it } from 'vitest';
import { deliveryFromStore, deliveryToStore, poisonToStore } from '../../persistence/poison-records.ts';

const poison = { seq: 3, id: 'm3', type: 'note', payload: { a: 1 }, attempts: 3, at: 1_700_000_000_000 };

describe('poison records', () => {
  it('a delivery count is stored as { seq, attempts } only; a bad actor id or seq is ERR_INVALID_STORE_KEY', () => {
    expect(deliveryToStore('a', { seq: 4, attempts: 2, extra: true } as never)).toEqual({ seq: 4, attempts: 2 });
    for (const [id, seq] of [['', 1], ['a\0b', 1], ['a', 0], ['a', 1.5], ['a', Number.NaN]] as const) {
      expect(() => deliveryToStore(id, { seq, attempts: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STORE_KEY' }));
    }
  });

  it('a stored value that is not a delivery count reads as none', () => {
    expect(deliveryFromStore({ seq: 4, attempts: 2, extra: 1 })).toEqual({ seq: 4, attempts: 2 });
    for (const bad of [undefined, null, 7, 'x', [], {}, { seq: '4', attempts: 2 }, { seq: 4 }]) expect(deliveryFromStore(bad)).toBeUndefined();
  });

  it('a poison message keeps its trace only when it carried one', () => {
    expect(poisonToStore('a', { ...poison, trace: '' })).toEqual(poison);
    expect(poisonToStore('a', poison)).toEqual(poison);
    expect('trace' in poisonToStore('a', { ...poison, trace: '' })).toBe(false);
    const traced = { ...poison, trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(poisonToStore('a', traced)).toEqual(traced);
    expect(() => poisonToStore('a', { ...poison, seq: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STORE_KEY' }));
  });
});
