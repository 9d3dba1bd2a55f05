// Named persistence errors. Callers branch on `code`, which is stable; messages are for humans; facts (the actor
// id, versions, the seq) are in `details`, so they survive a thread boundary (runtime/errors.ts reviveError).
import { TroupeError, registerErrors } from '../runtime/errors.ts';

/** A stored snapshot cannot be decoded. The stored bytes are left as they are, for inspection or repair by hand. */
export class SnapshotDecodeError extends TroupeError {
  static readonly code = 'ERR_SNAPSHOT_DECODE';
  override readonly code = 'ERR_SNAPSHOT_DECODE';
  static of(actorId: string, reason: string, cause?: unknown): SnapshotDecodeError {
    return new SnapshotDecodeError(`snapshot of actor ${JSON.stringify(actorId)} cannot be decoded: ${reason}`, { cause, details: { actorId } });
  }
  get actorId(): string | undefined {
    return this.details?.actorId as string | undefined;
  }
}

/** A stored journal segment cannot be decoded (left as it is). `seq` is the segment's first message. */
export class JournalDecodeError extends TroupeError {
  static readonly code = 'ERR_JOURNAL_DECODE';
  override readonly code = 'ERR_JOURNAL_DECODE';
  static of(actorId: string, seq: number, reason: string, cause?: unknown): JournalDecodeError {
    return new JournalDecodeError(`journal segment ${seq} of actor ${JSON.stringify(actorId)} cannot be decoded: ${reason}`, {
      cause, details: { actorId, seq },
    });
  }
  get actorId(): string | undefined {
    return this.details?.actorId as string | undefined;
  }
  get seq(): number | undefined {
    return this.details?.seq as number | undefined;
  }
}

/** A message payload or an actor state that msgpack cannot encode (e.g. a BigInt past 64 bits): nothing was written. */
export class UnencodableValueError extends TroupeError {
  static readonly code = 'ERR_UNENCODABLE_VALUE';
  override readonly code = 'ERR_UNENCODABLE_VALUE';
  static of(actorId: string, what: 'message' | 'snapshot', reason: string, cause?: unknown): UnencodableValueError {
    return new UnencodableValueError(`the ${what} of actor ${JSON.stringify(actorId)} cannot be stored: ${reason}`, { cause, details: { actorId, what } });
  }
}

export class InvalidPersistenceOptionError extends TroupeError {
  static readonly code = 'ERR_INVALID_PERSISTENCE_OPTION';
  override readonly code = 'ERR_INVALID_PERSISTENCE_OPTION';
}

export class InvalidStoreKeyError extends TroupeError {
  static readonly code = 'ERR_INVALID_STORE_KEY';
  override readonly code = 'ERR_INVALID_STORE_KEY';
}

/** A snapshot is older than the definition's version and a migration step is missing. */
export class MissingMigrationError extends TroupeError {
  static readonly code = 'ERR_MISSING_MIGRATION';
  override readonly code = 'ERR_MISSING_MIGRATION';
  static of(fromVersion: number, targetVersion: number): MissingMigrationError {
    return new MissingMigrationError(
      `no migration from snapshot version ${fromVersion} to ${fromVersion + 1} ` +
        `(needed to reach version ${targetVersion}): add migrations[${fromVersion}]`,
      { details: { fromVersion, targetVersion } },
    );
  }
}

/** A snapshot's version is newer than the definition's (no downgrades), or not a version at all. */
export class SnapshotVersionError extends TroupeError {
  static readonly code = 'ERR_SNAPSHOT_VERSION';
  override readonly code = 'ERR_SNAPSHOT_VERSION';
  static of(storedVersion: number, currentVersion: number): SnapshotVersionError {
    return new SnapshotVersionError(
      Number.isSafeInteger(storedVersion) && storedVersion >= 0
        ? `snapshot version ${storedVersion} is newer than this code's version ${currentVersion}: ` +
            'refusing to downgrade (was the snapshot written by a newer release?)'
        : `snapshot version ${String(storedVersion)} is not a non-negative integer`,
      { details: { storedVersion, currentVersion } },
    );
  }
}

/**
 * A write refused because the store takes no more commits: the main thread is about to terminate this thread (it
 * did not confirm shutdown in time) and a commit begun now could be cut off half-way (runtime/commit-fence.ts).
 */
export class StoreClosingError extends TroupeError {
  static readonly code = 'ERR_STORE_CLOSING';
  override readonly code = 'ERR_STORE_CLOSING';
}

registerErrors(StoreClosingError, SnapshotDecodeError, JournalDecodeError, UnencodableValueError, InvalidPersistenceOptionError, InvalidStoreKeyError, MissingMigrationError, SnapshotVersionError);
