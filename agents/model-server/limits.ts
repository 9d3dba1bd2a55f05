/**
 * The local server's own rate limits, as the Messages API applies them: requests, input tokens and output
 * tokens per minute, each a continuously refilled bucket. Output tokens are counted from max_tokens when the
 * request starts and corrected once the real output is known. A request over a limit is a 429 whose
 * retry-after says when it would pass.
 */
import { TokenBucket } from '../policy/token-bucket.ts';

export interface ServerLimits {
  requestsPerMinute?: number;
  inputTokensPerMinute?: number;
  outputTokensPerMinute?: number;
}

type Name = 'requests' | 'input-tokens' | 'output-tokens';

export class ServerRateLimiter {
  private readonly buckets = new Map<Name, TokenBucket>();

  constructor(limits: ServerLimits, now: number) {
    if (limits.requestsPerMinute) this.buckets.set('requests', TokenBucket.perMinute(limits.requestsPerMinute, now));
    if (limits.inputTokensPerMinute) this.buckets.set('input-tokens', TokenBucket.perMinute(limits.inputTokensPerMinute, now));
    if (limits.outputTokensPerMinute) this.buckets.set('output-tokens', TokenBucket.perMinute(limits.outputTokensPerMinute, now));
  }

  /** Admit a request (taking from every bucket) or say which limit refused it and for how long. */
  admit(inputTokens: number, maxTokens: number, now: number): { ok: true } | { ok: false; limit: Name; retryAfterMs: number } {
    const need: Record<Name, number> = { requests: 1, 'input-tokens': inputTokens, 'output-tokens': maxTokens };
    for (const [name, b] of this.buckets) {
      const wait = b.waitFor(need[name], now);
      if (wait > 0) return { ok: false, limit: name, retryAfterMs: wait };
    }
    for (const [name, b] of this.buckets) b.tryTake(need[name], now);
    return { ok: true };
  }

  /** The output was `used` tokens, not the max_tokens reserved: give the difference back. */
  settleOutput(reserved: number, used: number, now: number): void {
    const b = this.buckets.get('output-tokens');
    if (b && used < reserved) b.credit(reserved - used, now);
  }

  /** anthropic-ratelimit-{requests,input-tokens,output-tokens}-{limit,remaining,reset} */
  headers(now: number): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [name, b] of this.buckets) {
      const remaining = Math.max(0, Math.floor(b.available(now)));
      const fullInMs = Math.ceil((b.capacity - b.available(now)) / b.ratePerMs);
      h[`anthropic-ratelimit-${name}-limit`] = String(b.capacity);
      h[`anthropic-ratelimit-${name}-remaining`] = String(remaining);
      h[`anthropic-ratelimit-${name}-reset`] = new Date(now + fullInMs).toISOString();
    }
    return h;
  }
}
