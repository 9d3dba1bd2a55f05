/**
 * What this thread has observed of each member it routes to: asks in flight, latency, success, ejection. The math
 * is the pure policies' (router/policy/); this file only keeps their state per member.
 */
export class Observed {
  inFlight = 0;
  /** Its one trial was sent from here while it was half-open (cleared when its phase changes). */
  trialSent = false;
  successRate = 1;
  weight = 1;
  private ewma = -1;
  private stamp = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;

  latency(now: number): number {
    if (this.ewma < 0) return START_LATENCY_MS;
    return this.ewma * Math.exp(-(now - this.stamp) / DECAY_MS);
  }

  observe(latencyMs: number, now: number): void {
    const current = this.latency(now);
    // Peak EWMA: a slower sample counts at once, a faster one only decays the score toward it.
    if (this.ewma < 0 || latencyMs > current) this.ewma = latencyMs;
    else {
      const w = Math.exp(-(now - this.stamp) / DECAY_MS);
      this.ewma = current * w + latencyMs * (1 - w);
    }
    this.stamp = now;
  }
}

const START_LATENCY_MS = 1;
const DECAY_MS = 10_000;

export class Observations {
  private readonly byId = new Map<string, Observed>();
  constructor(private readonly changed: () => void) {}

  of(id: string): Observed {
    let o = this.byId.get(id);
    if (o === undefined) this.byId.set(id, (o = new Observed()));
    return o;
  }

  forget(id: string): void {
    this.byId.delete(id);
  }

  ejected(o: Observed, now: number): boolean {
    return o.ejectedUntil > now;
  }

  ejectedUntil(o: Observed, _now: number): number {
    return o.ejectedUntil;
  }

  trial(o: Observed): void {
    o.trialSent = true;
    this.changed();
  }

  succeeded(o: Observed, latencyMs: number, now: number): void {
    o.observe(latencyMs, now);
    o.successRate = o.successRate * 0.9 + 0.1;
    o.consecutiveFailures = 0;
  }

  /** A failure counts as a penalty latency (Linkerd: 5 s, or the retry-after when longer, capped at 300 s). */
  failed(o: Observed, latencyMs: number, now: number, retryAfterMs?: number): void {
    o.observe(Math.max(latencyMs, Math.min(300_000, Math.max(5000, retryAfterMs ?? 0))), now);
    o.successRate *= 0.9;
    if (++o.consecutiveFailures >= 5) {
      o.ejectedUntil = now + Math.min(300_000, 30_000 * ++o.ejections);
      o.consecutiveFailures = 0;
      this.changed();
    }
  }
}
