export {
  ActorStore,
  ENV_OPTIONS,
  type ActorStoreOptions,
  type JournalEntry,
  type JournalMessage,
  type RememberedId,
  type Snapshot,
} from './store.ts';
export { SnapshotCadence, validateCadence, type SnapshotCadenceOptions } from './cadence.ts';
export { migrateSnapshot, type Migrations } from './migrate.ts';
export {
  InvalidPersistenceOptionError,
  InvalidStoreKeyError,
  JournalDecodeError,
  MissingMigrationError,
  SnapshotDecodeError,
  SnapshotVersionError,
  UnencodableValueError,
} from './errors.ts';
