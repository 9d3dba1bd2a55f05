import { RingQueue } from '../mailbox/queue.ts';
import { commitOpenWork } from './workcopy.ts';

/** What the scheduler runs: an actor with mail. */
export interface Runnable {
  /** True while sitting in the ready queue (so it is queued once however much mail arrives). */
  queued: boolean;
  /** Handle up to `budget` messages; return how many were handled and whether more are waiting and runnable. */
  run(budget: number): number;
  runnable(): boolean;
}

/** Messages one turn may handle before yielding to the event loop (I/O, timers, other ports). */
export const TURN_BUDGET = 10_000;
/** Messages one actor may handle before the next ready actor gets its turn (fairness). */
export const SLICE = 512;

/**
 * How a thread's turns are shaped (default: TURN_BUDGET, SLICE, ready actors in FIFO order). A deterministic test
 * harness shrinks both to 1 and lets `pick` choose which ready actor runs next (an index into the ready queue), so a
 * seed decides the interleaving; every choice is one any real schedule could make.
 */
export interface SchedulingPolicy {
  turnBudget?: number;
  slice?: number;
  pick?: (ready: number) => number;
}

/**
 * Per-thread scheduler: a ready queue of actors with mail, drained under a budget per event-loop turn. One deferred
 * turn is scheduled when the queue becomes non-empty, never one per message. `defer` is injected (setImmediate by
 * default) and `afterTurn` flushes coalesced outgoing traffic.
 */
export class Scheduler {
  private ready = new RingQueue<Runnable>(64);
  private scheduled = false;
  private inTurn = false;
  /** The last turn let the event loop run first (yieldFirst). */
  private yielded = false;
  private readonly boundTurn = () => this.turn();

  constructor(
    private readonly defer: (fn: () => void) => void,
    private readonly afterTurn: () => void,
    /**
     * Asked before a turn: true to let the event loop run once first (the thread's group commit is about to
     * start: its fsync then overlaps the handling instead of waiting for it). Never asked twice in a row.
     */
    private readonly yieldFirst: () => boolean = () => false,
    private readonly policy: SchedulingPolicy = {},
  ) {
    this.turnBudget = policy.turnBudget ?? TURN_BUDGET;
    this.slice = policy.slice ?? SLICE;
  }

  private readonly turnBudget: number;
  private readonly slice: number;

  /** The next actor to run: the head of the ready queue, or the one the policy picks (the others keep their order). */
  private next(): Runnable {
    const pick = this.policy.pick;
    if (pick !== undefined && this.ready.size > 1) {
      const size = this.ready.size;
      const k = Math.min(size - 1, Math.max(0, Math.floor(pick(size))));
      const skipped: Runnable[] = [];
      for (let i = 0; i < k; i++) skipped.push(this.ready.shift()!);
      const chosen = this.ready.shift()!;
      // Put the skipped ones back in front of the rest, in their order: rebuild the queue.
      const rest: Runnable[] = [];
      while (this.ready.size > 0) rest.push(this.ready.shift()!);
      for (const r of skipped) this.ready.push(r);
      for (const r of rest) this.ready.push(r);
      return chosen;
    }
    return this.ready.shift()!;
  }

  get depth(): number {
    return this.ready.size;
  }

  schedule(r: Runnable): void {
    if (r.queued) return;
    r.queued = true;
    this.ready.push(r);
    if (!this.inTurn && !this.scheduled) {
      this.scheduled = true;
      this.defer(this.boundTurn);
    }
  }

  /**
   * Deliver a batch that arrived from a port, then run a turn right away (no extra event-loop hop, and no
   * deferred turn left behind by the deliveries).
   */
  deliverThenRun(deliver: () => void): void {
    if (this.inTurn) return deliver();
    this.inTurn = true;
    try {
      deliver();
    } finally {
      this.inTurn = false;
    }
    if (this.ready.size > 0) this.turn();
  }

  private turn(): void {
    this.scheduled = false;
    // Never twice in a row: a turn deferred once runs next time, however the commits are paced.
    if (!this.yielded && this.yieldFirst()) {
      this.yielded = true;
      this.scheduled = true;
      this.defer(this.boundTurn);
      return;
    }
    this.yielded = false;
    this.inTurn = true;
    let budget = this.turnBudget;
    try {
      while (budget > 0 && this.ready.size > 0) {
        const r = this.next();
        r.queued = false;
        budget -= r.run(Math.min(budget, this.slice));
        // (run() may have re-queued it itself, e.g. after a restart within the turn)
        if (!r.queued && r.runnable()) {
          r.queued = true;
          this.ready.push(r);
        }
      }
    } finally {
      this.inTurn = false;
      commitOpenWork(); // an actor's run of messages ends with the turn (runtime/workcopy.ts)
      this.afterTurn();
      if (this.ready.size > 0 && !this.scheduled) {
        this.scheduled = true;
        this.defer(this.boundTurn);
      }
    }
  }
}
