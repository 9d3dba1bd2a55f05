export {
  ActorStore,
  ENV_OPTIONS,
  type ActorStoreOptions,
  type JournalEntry,
  type JournalMessage,
  type PoisonMessage,
  type RememberedId,
  type Snapshot,
} from './store.ts';
export { SnapshotCadence, validateCadence, type SnapshotCadenceOptions } from './cadence.ts';
export { migrateSnapshot, type Migrations } from './migrate.ts';
export { DEFAULT_POISON_AFTER, replayVerdict, validatePoisonAfter, type DeliveryRecord, type ReplayVerdict } from './poison.ts';
export {
  InvalidPersistenceOptionError,
  InvalidStoreKeyError,
  JournalDecodeError,
  MissingMigrationError,
  SnapshotDecodeError,
  SnapshotVersionError,
  UnencodableValueError,
} from './errors.ts';
