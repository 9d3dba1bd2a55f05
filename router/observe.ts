import { PeakEwma, SuccessRate } from './policy/peak-ewma.ts';
import { OutlierEjection } from './policy/ejection.ts';
import { weightsFor } from './policy/adaptive.ts';

/** What this thread knows of one member beyond the policies' own state: its asks in flight, its trial, its weight. */
export class Observed {
  inFlight = 0;
  /** Its one trial was sent from here in the half-open period `trialEpoch` (Member.epoch): later periods get theirs. */
  trialSent = false;
  trialEpoch = -1;
  /** Adaptive weight, refreshed with its candidate set's (router/policy/adaptive.ts). */
  weight = 1;
  constructor(readonly id: string) {}
}

/** How often a candidate set's adaptive weights are recomputed (they move with decaying averages). */
const WEIGHTS_EVERY_MS = 50;

/**
 * What this thread has observed of the members it routes to: latency (peak EWMA), success rate, outlier ejection
 * and adaptive weights. The math is the pure policies' (router/policy/); this keeps their state for one thread.
 */
export class Observations {
  private readonly byId = new Map<string, Observed>();
  readonly latency = new PeakEwma();
  readonly success = new SuccessRate();
  readonly ejection = new OutlierEjection();
  private readonly weighedAt = new WeakMap<readonly Observed[], number>();

  constructor(private readonly changed: () => void) {}

  of(id: string): Observed {
    let o = this.byId.get(id);
    if (o === undefined) this.byId.set(id, (o = new Observed(id)));
    return o;
  }

  trial(o: Observed, epoch: number): void {
    o.trialSent = true;
    o.trialEpoch = epoch;
    this.changed();
  }

  /** The trial never reached a half-open actor (its circuit was still open there): the next ask may try again. */
  trialRefused(o: Observed): void {
    if (!o.trialSent) return;
    o.trialSent = false;
    this.changed();
  }

  succeeded(o: Observed, latencyMs: number, now: number): void {
    this.latency.observe(o.id, latencyMs, now);
    this.success.record(o.id, true, now);
    this.ejection.onSuccess(o.id, now);
  }

  /** A failure of the actor's handling (crash, timeout): a penalty latency, a failed sample, maybe an ejection. */
  failed(o: Observed, now: number, poolSize: number, retryAfterMs?: number): void {
    this.latency.fail(o.id, now, retryAfterMs);
    this.success.record(o.id, false, now);
    if (this.ejection.onFailure(o.id, now, poolSize)) this.changed();
  }

  /** Recompute the weights of a candidate set when they are older than WEIGHTS_EVERY_MS. */
  weigh(set: readonly Observed[], now: number): void {
    const at = this.weighedAt.get(set);
    if (at !== undefined && now - at < WEIGHTS_EVERY_MS) return;
    this.weighedAt.set(set, now);
    const w = weightsFor(set.map((o) => o.id), this.latency, this.success, now);
    for (const o of set) o.weight = w.get(o.id) ?? 1;
  }

  /** A member left for good (its id may come back as a new actor: it starts afresh). */
  forget(id: string): void {
    this.byId.delete(id);
    this.latency.forget(id);
    this.success.forget(id);
    this.ejection.forget(id);
  }
}
