import type { SpawnOptions } from '../actors/context.ts';
import { mailboxSpecProblem } from '../mailbox/mailbox.ts';
import { InvalidMessageIdError, InvalidSpawnOptionError } from './errors.ts';

const spawnKeys = new Set(['id', 'args', 'pin', 'near', 'mailbox', 'capabilities', 'node', 'placement']);

/** Throws InvalidSpawnOptionError naming the first bad option. */
export function validateSpawnOptions(options: SpawnOptions, workers: number, live: (node: number) => boolean): void {
  const fail = (msg: string): never => {
    throw new InvalidSpawnOptionError(msg);
  };
  if (typeof options !== 'object' || options === null) fail('spawn options must be an object');
  for (const key of Object.keys(options)) if (!spawnKeys.has(key)) fail(`unknown spawn option '${key}'`);
  const { id, pin, near } = options;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 256 || id.startsWith('$'))) {
    fail('id must be a non-empty string of at most 256 characters, not starting with $');
  }
  if (pin !== undefined) {
    if (!Number.isInteger(pin) || pin < 0 || pin > workers) fail(`pin must be a thread number from 0 to ${workers}`);
    if (!live(pin)) fail(`pin: thread ${pin} is not running`);
  }
  if (near !== undefined && (typeof near !== 'object' || near === null || typeof near.id !== 'string' || !Number.isInteger(near.node))) {
    fail('near must be an actor ref');
  }
  if (pin !== undefined && near !== undefined) fail('give either pin or near, not both');
  const { node, placement } = options;
  if (node !== undefined && (typeof node !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(node))) fail('node must be a cluster node id (1-64 characters of A-Z a-z 0-9 _ -)');
  if (placement !== undefined && placement !== 'local' && placement !== 'least-loaded') fail("placement must be 'local' or 'least-loaded'");
  if (node !== undefined && placement !== undefined) fail('give either node or placement, not both');
  const problem = mailboxSpecProblem(options.mailbox) ?? capabilitiesProblem(options.capabilities);
  if (problem) fail(problem);
}

/** Capabilities: up to 64 non-empty strings of at most 128 characters. */
export function capabilitiesProblem(caps: unknown): string | undefined {
  if (caps === undefined) return undefined;
  if (!Array.isArray(caps) || caps.length > 64 || !caps.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 128)) {
    return 'capabilities must be an array of at most 64 non-empty strings of at most 128 characters';
  }
  return undefined;
}

export function validateStartOptions(options: { workers?: unknown }): void {
  if (typeof options !== 'object' || options === null) throw new InvalidSpawnOptionError('Runtime.start options must be an object');
  const w = options.workers;
  if (w !== undefined && (!Number.isInteger(w) || (w as number) < 0 || (w as number) > 64)) {
    throw new InvalidSpawnOptionError('workers must be an integer from 0 to 64');
  }
}

/** The longest messageId: ids are LMDB key parts next to the actor id (persistence/keys.ts). */
const MAX_MESSAGE_ID_BYTES = 900;

/** Throws InvalidMessageIdError unless `id` (a sender-given messageId) can be stored and recognised on retry. */
export function validateMessageId(id: unknown): void {
  if (typeof id === 'string' && id.length > 0 && !id.includes('\0') && (id.length <= MAX_MESSAGE_ID_BYTES / 3 || Buffer.byteLength(id) <= MAX_MESSAGE_ID_BYTES)) return;
  throw new InvalidMessageIdError(`messageId must be a non-empty string without NUL, at most ${MAX_MESSAGE_ID_BYTES} UTF-8 bytes`);
}
