// Snapshot schema migration: pure, so a failed migration never touches the store.
import { InvalidPersistenceOptionError, MissingMigrationError, SnapshotVersionError } from './errors.ts';

/** migrations[v] turns state at version v into state at version v + 1. */
export type Migrations = Readonly<Record<number, (state: any) => unknown>>;

export function migrateSnapshot<S = unknown>(
  stored: { readonly version: number; readonly state: unknown },
  current: number,
  migrations: Migrations,
): S {
  if (!Number.isSafeInteger(current) || current < 0) {
    throw new InvalidPersistenceOptionError(`current snapshot version must be a non-negative integer, got ${current}`);
  }
  const from = stored.version;
  if (!Number.isSafeInteger(from) || from < 0 || from > current) throw SnapshotVersionError.of(from, current);
  // Check the whole chain first, so a gap is reported before any migration runs.
  for (let v = from; v < current; v++) {
    const step = Object.hasOwn(migrations, v) ? migrations[v] : undefined; // never from the prototype chain
    if (typeof step !== 'function') throw MissingMigrationError.of(v, current);
  }
  let state = stored.state;
  for (let v = from; v < current; v++) state = migrations[v](state);
  return state as S;
}
