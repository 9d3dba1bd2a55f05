// Named persistence errors. Callers branch on `code`, which is stable; messages are for humans.

export class SnapshotDecodeError extends Error {
  override readonly name = 'SnapshotDecodeError';
  readonly code = 'ERR_SNAPSHOT_DECODE';
  constructor(
    readonly actorId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    // The stored bytes are left as they are, so an operator can inspect or migrate them by hand.
    super(`snapshot of actor ${JSON.stringify(actorId)} cannot be decoded: ${reason}`, options);
  }
}

export class JournalDecodeError extends Error {
  override readonly name = 'JournalDecodeError';
  readonly code = 'ERR_JOURNAL_DECODE';
  constructor(
    readonly actorId: string,
    readonly seq: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`journal entry ${seq} of actor ${JSON.stringify(actorId)} cannot be decoded: ${reason}`, options);
  }
}

export class InvalidPersistenceOptionError extends Error {
  override readonly name = 'InvalidPersistenceOptionError';
  readonly code = 'ERR_INVALID_PERSISTENCE_OPTION';
}

export class InvalidStoreKeyError extends Error {
  override readonly name = 'InvalidStoreKeyError';
  readonly code = 'ERR_INVALID_STORE_KEY';
}

export class MissingMigrationError extends Error {
  override readonly name = 'MissingMigrationError';
  readonly code = 'ERR_MISSING_MIGRATION';
  constructor(
    readonly fromVersion: number,
    readonly targetVersion: number,
  ) {
    super(
      `no migration from snapshot version ${fromVersion} to ${fromVersion + 1} ` +
        `(needed to reach version ${targetVersion}): add migrations[${fromVersion}]`,
    );
  }
}

export class SnapshotVersionError extends Error {
  override readonly name = 'SnapshotVersionError';
  readonly code = 'ERR_SNAPSHOT_VERSION';
  constructor(
    readonly storedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      Number.isSafeInteger(storedVersion) && storedVersion >= 0
        ? `snapshot version ${storedVersion} is newer than this code's version ${currentVersion}: ` +
            'refusing to downgrade (was the snapshot written by a newer release?)'
        : `snapshot version ${String(storedVersion)} is not a non-negative integer`,
    );
  }
}
