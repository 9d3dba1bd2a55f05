/**
 * The quota governor's policy: one budget per API key (requests, input tokens and output tokens per minute, as
 * token buckets), shared by every agent. A request is paced before it is sent: it takes one request, its
 * estimated input tokens and its max_tokens; the real usage then corrects the estimate (debt or credit), and
 * the API's anthropic-ratelimit-* headers clamp the buckets to what the server says is left. A 429 blocks the
 * whole key for its retry-after (the server's word counts for every agent, not only the one that got it).
 *
 * Priorities: a request that does not fit waits in line; only the best waiter of a key may take from the
 * buckets, best = priority + waited / agingMs, so a low-priority agent rises over time and is never starved.
 * A waiter that stops asking (its agent crashed) leaves the line after `staleMs`. Pure: time is passed in.
 */
import { InvalidQuotaError } from '../errors.ts';
import { TokenBucket } from './token-bucket.ts';

export interface QuotaLimits {
  requestsPerMinute: number;
  inputTokensPerMinute: number;
  outputTokensPerMinute: number;
}

export interface PermitRequest {
  /** Who asks (one waiter per requester). */
  requester: string;
  key: string;
  inputTokens: number;
  maxTokens: number;
  /** Higher goes first (default 0). */
  priority?: number;
}

export type PermitDecision = { granted: true; permit: Permit } | { granted: false; waitMs: number };

export interface Permit {
  id: string;
  key: string;
  inputTokens: number;
  maxTokens: number;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

interface Waiter {
  since: number;
  priority: number;
  lastSeen: number;
}

interface KeyState {
  requests: TokenBucket;
  input: TokenBucket;
  output: TokenBucket;
  blockedUntil: number;
  waiters: Map<string, Waiter>;
}

export interface QuotaOptions {
  /** Limits per key; `default` applies to keys not listed. */
  limits: Record<string, QuotaLimits> & { default?: QuotaLimits };
  /** One priority point per this many ms of waiting (default 2000). */
  agingMs?: number;
  /** A waiter not seen for this long is forgotten (default 10000). */
  staleMs?: number;
  /** Longest single wait handed out, so waiters re-check the line (default 1000). */
  maxWaitMs?: number;
}

export class QuotaPolicy {
  private readonly keys = new Map<string, KeyState>();
  private seq = 0;
  readonly counters = { granted: 0, waited: 0, settled: 0, resynced: 0, blocked: 0 };

  constructor(private readonly o: QuotaOptions) {
    for (const [k, l] of Object.entries(o.limits)) validateLimits(k, l);
  }

  request(r: PermitRequest, now: number): PermitDecision {
    const k = this.key(r.key, now);
    const w = k.waiters.get(r.requester) ?? { since: now, priority: r.priority ?? 0, lastSeen: now };
    w.lastSeen = now;
    w.priority = r.priority ?? 0;
    k.waiters.set(r.requester, w);
    this.forgetStale(k, now);
    const maxWait = this.o.maxWaitMs ?? 1000;
    if (k.blockedUntil > now) return this.wait(Math.min(maxWait, k.blockedUntil - now));
    const best = this.best(k, now);
    if (best !== r.requester) return this.wait(Math.min(maxWait, 50));
    const wait = Math.max(k.requests.waitFor(1, now), k.input.waitFor(r.inputTokens, now), k.output.waitFor(r.maxTokens, now));
    if (wait > 0) return this.wait(Math.min(maxWait, wait));
    k.requests.tryTake(1, now);
    k.input.tryTake(r.inputTokens, now);
    k.output.tryTake(r.maxTokens, now);
    k.waiters.delete(r.requester);
    this.counters.granted++;
    return { granted: true, permit: { id: `p${++this.seq}`, key: r.key, inputTokens: r.inputTokens, maxTokens: r.maxTokens } };
  }

  /** The request completed: correct the estimates with the real usage. */
  settle(p: Permit, usage: Usage, now: number): void {
    const k = this.key(p.key, now);
    const input = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0);
    adjust(k.input, Math.min(p.inputTokens, k.input.capacity), input, now);
    adjust(k.output, Math.min(p.maxTokens, k.output.capacity), usage.output_tokens, now);
    this.counters.settled++;
  }

  /** The request failed before the model ran: give the tokens back (the request itself still counted). */
  release(p: Permit, now: number): void {
    const k = this.key(p.key, now);
    k.input.credit(Math.min(p.inputTokens, k.input.capacity), now);
    k.output.credit(Math.min(p.maxTokens, k.output.capacity), now);
  }

  /** The server answered 429: nobody on this key sends before retry-after. */
  blockKey(key: string, forMs: number, now: number): void {
    const k = this.key(key, now);
    k.blockedUntil = Math.max(k.blockedUntil, now + forMs);
    this.counters.blocked++;
  }

  /** anthropic-ratelimit-*-remaining headers: never believe there is more left than the server says. */
  resync(key: string, headers: Record<string, string>, now: number): void {
    const k = this.key(key, now);
    const [requests, input, output] = REMAINING_HEADERS;
    clampToHeader(k.requests, headers[requests], now);
    clampToHeader(k.input, headers[input], now);
    clampToHeader(k.output, headers[output], now);
    this.counters.resynced++;
  }

  waiting(key: string): number {
    return this.keys.get(key)?.waiters.size ?? 0;
  }

  available(key: string, now: number): { requests: number; input: number; output: number } {
    const k = this.key(key, now);
    return { requests: k.requests.available(now), input: k.input.available(now), output: k.output.available(now) };
  }

  private wait(ms: number): PermitDecision {
    this.counters.waited++;
    return { granted: false, waitMs: Math.max(1, Math.ceil(ms)) };
  }

  private best(k: KeyState, now: number): string | undefined {
    let best: string | undefined;
    let score = -Infinity;
    const aging = this.o.agingMs ?? 2000;
    for (const [id, w] of k.waiters) {
      const s = w.priority + (now - w.since) / aging;
      if (s > score) [best, score] = [id, s];
    }
    return best;
  }

  private forgetStale(k: KeyState, now: number): void {
    const stale = this.o.staleMs ?? 10_000;
    for (const [id, w] of k.waiters) if (now - w.lastSeen > stale) k.waiters.delete(id);
  }

  private key(key: string, now: number): KeyState {
    let k = this.keys.get(key);
    if (!k) {
      const l = this.o.limits[key] ?? this.o.limits.default;
      if (!l) throw new InvalidQuotaError(`no quota limits for key '${key}' and no default`);
      k = {
        requests: TokenBucket.perMinute(l.requestsPerMinute, now),
        input: TokenBucket.perMinute(l.inputTokensPerMinute, now),
        output: TokenBucket.perMinute(l.outputTokensPerMinute, now),
        blockedUntil: 0,
        waiters: new Map(),
      };
      this.keys.set(key, k);
    }
    return k;
  }
}

/** What the server says is left of requests, input tokens and output tokens (the headers resync reads). */
export const REMAINING_HEADERS = ['anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-input-tokens-remaining', 'anthropic-ratelimit-output-tokens-remaining'] as const;

function clampToHeader(bucket: TokenBucket, header: string | undefined, now: number): void {
  if (header === undefined) return;
  const remaining = Number(header);
  if (Number.isFinite(remaining)) bucket.clampTo(remaining, now);
}

function adjust(b: TokenBucket, reserved: number, used: number, now: number): void {
  if (used > reserved) b.debit(used - reserved, now);
  else if (used < reserved) b.credit(reserved - used, now);
}

function validateLimits(key: string, l: QuotaLimits): void {
  for (const f of ['requestsPerMinute', 'inputTokensPerMinute', 'outputTokensPerMinute'] as const) {
    if (!(typeof l?.[f] === 'number' && l[f] > 0 && Number.isFinite(l[f]))) throw new InvalidQuotaError(`limits.${key}.${f} must be a positive number`);
  }
}
