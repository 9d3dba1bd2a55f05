/**
 * What the server saw, for tests to read: one entry per request, with a digest of its prompt (system + messages),
 * so "each turn requested exactly once per completed response" is a count per digest.
 */
import { createHash } from 'node:crypto';

export interface RequestLogEntry {
  index: number;
  requestId: string;
  path: string;
  /** When the request arrived, and when its answer was fully written (an error: when it was sent). */
  at: number;
  doneAt: number;
  stream: boolean;
  model: string;
  promptDigest: string;
  /** Number of messages in the prompt (turn n of a conversation sends 2n - 1 of them). */
  messageCount: number;
  inputTokens: number;
  outputTokens: number;
  status: number;
  /** 'ok', or the error type answered (also for an error event inside a streamed 200). */
  outcome: string;
  stopReason?: string;
}

export function promptDigest(system: unknown, messages: unknown): string {
  return createHash('sha1').update(JSON.stringify([system ?? null, messages ?? null])).digest('hex').slice(0, 16);
}

export class RequestLog {
  readonly entries: RequestLogEntry[] = [];

  add(e: RequestLogEntry): void {
    this.entries.push(e);
  }

  /** Message requests (count_tokens excluded). */
  get messages(): RequestLogEntry[] {
    return this.entries.filter((e) => e.path === '/v1/messages');
  }

  /** Completed (answered 200 with a whole message) requests per prompt digest. */
  completedByPrompt(): Map<string, number> {
    return countBy(this.messages.filter((e) => e.outcome === 'ok'), (e) => e.promptDigest);
  }

  /** All requests per prompt digest, failed ones included. */
  requestsByPrompt(): Map<string, number> {
    return countBy(this.messages, (e) => e.promptDigest);
  }

  countByOutcome(): Record<string, number> {
    return Object.fromEntries(countBy(this.messages, (e) => e.outcome));
  }

  clear(): void {
    this.entries.length = 0;
  }
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}
