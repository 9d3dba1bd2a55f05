import { describe, expect, it } from 'vitest';
import {
  InvalidPersistenceOptionError,
  MissingMigrationError,
  SnapshotVersionError,
  migrateSnapshot,
} from '../../persistence/index.ts';

const migrations = {
  1: (s: { count: number }) => ({ total: s.count }),
  2: (s: { total: number }) => ({ total: s.total, history: [] as number[] }),
  3: (s: { total: number; history: number[] }) => ({ ...s, version3: true }),
};

describe('migrateSnapshot', () => {
  it('runs the chain from the stored version to the current one, in order', () => {
    expect(migrateSnapshot({ version: 1, state: { count: 7 } }, 4, migrations)).toEqual({
      total: 7,
      history: [],
      version3: true,
    });
    expect(migrateSnapshot({ version: 2, state: { total: 1 } }, 3, migrations)).toEqual({ total: 1, history: [] });
  });

  it('returns the state untouched when already current', () => {
    const state = { total: 1 };
    expect(migrateSnapshot({ version: 4, state }, 4, {})).toBe(state);
  });

  it('names the missing step, before running any migration', () => {
    let ran = false;
    const gap = { 1: (s: unknown) => ((ran = true), s), 3: (s: unknown) => s };
    let error: unknown;
    try {
      migrateSnapshot({ version: 1, state: {} }, 4, gap);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingMigrationError);
    expect(error).toMatchObject({ code: 'ERR_MISSING_MIGRATION', details: { fromVersion: 2, targetVersion: 4 } });
    expect((error as Error).message).toContain('2 to 3');
    expect(ran).toBe(false);
  });

  it('does not take a migration from the prototype chain', () => {
    expect(() => migrateSnapshot({ version: 0, state: {} }, 1, Object.create({ 0: (s: unknown) => s }))).toThrow(
      MissingMigrationError,
    );
  });

  it('refuses a snapshot from a newer version', () => {
    expect(() => migrateSnapshot({ version: 5, state: {} }, 4, migrations)).toThrow(SnapshotVersionError);
    expect(() => migrateSnapshot({ version: 5, state: {} }, 4, migrations)).toThrow(
      expect.objectContaining({ code: 'ERR_SNAPSHOT_VERSION', details: { storedVersion: 5, currentVersion: 4 } }),
    );
  });

  it('refuses nonsense versions', () => {
    expect(() => migrateSnapshot({ version: 1.5, state: {} }, 4, migrations)).toThrow(SnapshotVersionError);
    expect(() => migrateSnapshot({ version: -1, state: {} }, 4, migrations)).toThrow(SnapshotVersionError);
    expect(() => migrateSnapshot({ version: 1, state: {} }, NaN, migrations)).toThrow(InvalidPersistenceOptionError);
  });
});

describe('persistence errors', () => {
  it('are TroupeErrors and keep their class, code and details across a thread boundary', async () => {
    const { TroupeError, errorToData, reviveError } = await import('../../runtime/errors.ts');
    let thrown: unknown;
    try {
      migrateSnapshot({ version: 2, state: {} }, 4, {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TroupeError);
    // what a worker posts and the main thread rebuilds (errorToData is plain data: structured-clone it)
    const revived = reviveError(structuredClone(errorToData(thrown)));
    expect(revived).toBeInstanceOf(MissingMigrationError);
    expect(revived).toMatchObject({ name: 'MissingMigrationError', code: 'ERR_MISSING_MIGRATION', details: { fromVersion: 2, targetVersion: 4 } });
  });
});
