// When to snapshot: a pure policy. Time is passed in so it is testable without clocks or actors.
import { InvalidPersistenceOptionError } from './errors.ts';

export type SnapshotCadenceOptions =
  | { readonly every: 'message' }
  | { readonly everyMessages: number }
  | { readonly everyMs: number };

/** Returns the options if valid; throws InvalidPersistenceOptionError otherwise. */
export function validateCadence(options: unknown): SnapshotCadenceOptions {
  const fail = (why: string): never => {
    throw new InvalidPersistenceOptionError(`invalid snapshot cadence: ${why}`);
  };
  if (typeof options !== 'object' || options === null) return fail('expected an object');
  const keys = Object.keys(options);
  // Exactly one key: a mix such as { everyMessages, everyMs } has no single obvious meaning.
  if (keys.length !== 1) return fail(`expected exactly one of every, everyMessages, everyMs; got [${keys.join(', ')}]`);
  const o = options as Record<string, unknown>;
  switch (keys[0]) {
    case 'every':
      return o.every === 'message' ? { every: 'message' } : fail(`every must be 'message'`);
    case 'everyMessages': {
      const n = o.everyMessages;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1
        ? { everyMessages: n }
        : fail('everyMessages must be an integer >= 1');
    }
    case 'everyMs': {
      const t = o.everyMs;
      if (typeof t === 'number' && Number.isFinite(t) && t > 0) return { everyMs: t };
      return fail('everyMs must be a finite number > 0');
    }
    default:
      return fail(`unknown key ${JSON.stringify(keys[0])}`);
  }
}

export class SnapshotCadence {
  readonly options: SnapshotCadenceOptions;
  /** Does the decision depend on time (everyMs)? If not, callers need not read a clock for it. */
  readonly timed: boolean;

  constructor(options: SnapshotCadenceOptions) {
    this.options = validateCadence(options);
    this.timed = 'everyMs' in this.options;
  }

  /** Snapshot now? `messagesSinceLast` messages were applied since the snapshot taken at `lastAt`. */
  shouldSnapshot(now: number, messagesSinceLast: number, lastAt: number): boolean {
    if (messagesSinceLast <= 0) return false; // nothing new to persist
    const o = this.options;
    if ('every' in o) return true;
    if ('everyMessages' in o) return messagesSinceLast >= o.everyMessages;
    // A clock that went backwards would otherwise postpone snapshots until it catches up; snapshotting resets lastAt.
    return now < lastAt || now - lastAt >= o.everyMs;
  }

  /**
   * For time-based cadence: when to ask again if no further message arrives. shouldSnapshot is only consulted
   * after a message, so without a timer the last messages before a quiet period would stay unsnapshotted.
   */
  dueAt(messagesSinceLast: number, lastAt: number): number | undefined {
    return 'everyMs' in this.options && messagesSinceLast > 0 ? lastAt + this.options.everyMs : undefined;
  }
}
