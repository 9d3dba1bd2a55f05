import { describe, expect, it } from 'vitest';
import { InvalidPersistenceOptionError, SnapshotCadence, validateCadence } from '../../persistence/index.ts';

describe('SnapshotCadence', () => {
  it('every message: snapshots after any message, never with nothing new', () => {
    const c = new SnapshotCadence({ every: 'message' });
    expect(c.shouldSnapshot(0, 1, 0)).toBe(true);
    expect(c.shouldSnapshot(1e9, 0, 0)).toBe(false);
  });

  it('everyMessages: snapshots once N messages piled up, whatever the time', () => {
    const c = new SnapshotCadence({ everyMessages: 3 });
    expect([0, 1, 2, 3, 4].map((n) => c.shouldSnapshot(5, n, 5))).toEqual([false, false, false, true, true]);
    expect(c.shouldSnapshot(1e12, 2, 0)).toBe(false);
  });

  it('everyMs: snapshots when T ms passed since the last one and something changed', () => {
    const c = new SnapshotCadence({ everyMs: 100 });
    expect(c.shouldSnapshot(1099, 5, 1000)).toBe(false);
    expect(c.shouldSnapshot(1100, 1, 1000)).toBe(true);
    expect(c.shouldSnapshot(5000, 0, 1000)).toBe(false);
  });

  it('everyMs: a clock that went backwards snapshots rather than waiting for it to catch up', () => {
    expect(new SnapshotCadence({ everyMs: 100 }).shouldSnapshot(10, 1, 1000)).toBe(true);
  });

  it('dueAt tells a time-based owner when to ask again', () => {
    expect(new SnapshotCadence({ everyMs: 100 }).dueAt(2, 1000)).toBe(1100);
    expect(new SnapshotCadence({ everyMs: 100 }).dueAt(0, 1000)).toBeUndefined();
    expect(new SnapshotCadence({ everyMessages: 2 }).dueAt(1, 1000)).toBeUndefined();
  });
});

describe('validateCadence', () => {
  it.each([
    [{ every: 'message' }],
    [{ everyMessages: 1 }],
    [{ everyMessages: 1000 }],
    [{ everyMs: 0.5 }],
  ])('accepts %j', (options) => {
    expect(validateCadence(options)).toEqual(options);
  });

  it.each([
    [undefined],
    [null],
    ['message'],
    [{}],
    [{ every: 'turn' }],
    [{ everyMessages: 0 }],
    [{ everyMessages: 2.5 }],
    [{ everyMessages: '5' }],
    [{ everyMs: 0 }],
    [{ everyMs: -1 }],
    [{ everyMs: Infinity }],
    [{ everyMs: NaN }],
    [{ everyMessages: 5, everyMs: 100 }],
    [{ sometimes: true }],
  ])('rejects %j with ERR_INVALID_PERSISTENCE_OPTION', (options) => {
    expect(() => validateCadence(options)).toThrow(InvalidPersistenceOptionError);
    expect(() => validateCadence(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PERSISTENCE_OPTION' }));
  });

  it('the constructor validates too', () => {
    expect(() => new SnapshotCadence({ everyMessages: -3 })).toThrow(InvalidPersistenceOptionError);
  });
});
