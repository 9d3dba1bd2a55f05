import { checkNumber } from './errors.ts';
import type { RestartIntensity } from './intensity.ts';
import type { RestartStrategy, RestartType } from './strategy.ts';

/**
 * Would the supervisor restart this child at once, alone, whenever its window allows? Only then may the child's
 * thread decide a restart by itself: one-for-one (no sibling is involved), backoff minMs 0 (every delay is then 0,
 * whatever the streak or the jitter), and a restart type that restarts after a crash (not temporary).
 */
export function creditEligible(p: { strategy: RestartStrategy; backoffMinMs: number; restart: RestartType }): boolean {
  return p.strategy === 'one-for-one' && p.backoffMinMs === 0 && p.restart !== 'temporary';
}

/**
 * Restart credit: restarts a supervisor pre-authorises, so that a crashed child is restarted on its own thread at
 * once and the supervisor counts the restart when the report arrives, instead of deciding first (a round trip
 * between threads). One ledger per intensity window (the supervisor's, or a child's own in 'open-circuit' mode).
 *
 * Invariant, for every `now`: restartsInWindow(now) + outstanding <= maxRestarts. A grant keeps it (it gives at
 * most the free restarts); a spent credit keeps it (one credit becomes one restart in the window); time keeps it
 * (the window only forgets restarts). Hence a restart made under credit is never the one that exhausts the window,
 * whenever and in whatever order its report arrives: the supervisor would have decided 'restart' too. The caller
 * keeps it for restarts counted without credit: `mustRevokeBefore` says when the credit held by others must be
 * taken back first (so that those restarts that already happened are counted before this one, as OTP would have).
 *
 * Pure bookkeeping: `now` is passed in, nothing here knows about threads.
 */
export class RestartCredit<K> {
  private readonly held = new Map<K, number>();
  private total = 0;

  constructor(
    private readonly window: RestartIntensity,
    /** The most credit one child holds at a time: one restart ahead, so a child crashing again before its report is answered takes the supervisor's path. */
    readonly perChild = 1,
  ) {
    checkNumber('perChild', perChild, { integer: true });
  }

  /** Credit granted and neither spent (as far as the reports say) nor forfeited. */
  get outstanding(): number {
    return this.total;
  }

  heldBy(k: K): number {
    return this.held.get(k) ?? 0;
  }

  /** Children holding credit. */
  holders(): K[] {
    return [...this.held.keys()];
  }

  /** Top `k` up to `perChild`, within the restarts still free at `now`; returns the credit added (0 or more). */
  grant(k: K, now: number): number {
    const free = this.window.maxRestarts - this.window.restartsInWindow(now) - this.total;
    const n = Math.max(0, Math.min(this.perChild - this.heldBy(k), free));
    if (n > 0) this.set(k, this.heldBy(k) + n);
    return n;
  }

  /** A restart made under one of `k`'s credits was reported (the caller counts it in the window). */
  spent(k: K): void {
    this.set(k, Math.max(0, this.heldBy(k) - 1));
  }

  /** `k`'s credit is void: it crashed on the supervisor's path, its actor is gone, or it gave its credit back. */
  forfeit(k: K): void {
    this.set(k, 0);
  }

  /**
   * About to count a restart not covered by credit (or to decide whether one is allowed) at `now`: true when it
   * would be allowed but would leave fewer free restarts than the credit outstanding. The credit must be revoked
   * first; restarts already made under it are counted before this one.
   */
  mustRevokeBefore(now: number): boolean {
    const after = this.window.restartsInWindow(now) + 1;
    return after <= this.window.maxRestarts && after + this.total > this.window.maxRestarts;
  }

  private set(k: K, n: number): void {
    this.total += n - this.heldBy(k);
    if (n > 0) this.held.set(k, n);
    else this.held.delete(k);
  }
}
