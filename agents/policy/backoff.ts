/**
 * Exponential backoff with jitter, 1, 2, 4, 8, 16 s shape, capped. Pure: the random source is injected.
 * Jitter is "up to +25%" so the shape stays recognisable and retries of many agents spread out.
 */
export interface BackoffOptions {
  baseMs?: number; // 1000
  factor?: number; // 2
  maxMs?: number; // 16000
  jitter?: number; // 0.25: delay * (1 + jitter * random())
}

export function backoffDelay(attempt: number, random: () => number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 1000;
  const max = o.maxMs ?? 16_000;
  const raw = Math.min(max, base * Math.pow(o.factor ?? 2, Math.max(0, attempt - 1)));
  return Math.round(raw * (1 + (o.jitter ?? 0.25) * random()));
}
