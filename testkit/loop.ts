import { StepBudgetExceededError, TimeBudgetExceededError } from './errors.ts';
import type { SeededRandom } from './random.ts';
import type { Trace } from './trace.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** A message on its way from one sender to one receiver: it lands in a step of its own. */
interface Delivery {
  at: number;
  label: string;
  fn: () => void;
}

/** One step the scheduler may take now. */
type Candidate = { kind: 'turn' } | { kind: 'timer' } | { kind: 'channel'; key: string };
const TURN: Candidate = { kind: 'turn' };
const TIMER: Candidate = { kind: 'timer' };

export interface Budgets {
  maxSteps: number;
  maxVirtualMs: number;
}

/**
 * The seeded scheduler. Everything that happens in a simulated run is a step taken here, one at a time: a scheduler
 * turn of the runtime (one message of the ready actor the seed picks), a due timer of the virtual clock, or the
 * landing of one message. Among the steps possible at the current virtual time the seed chooses; when none is,
 * time jumps to the next deadline. Messages from one sender to one receiver travel in one channel and land in send
 * order (per-pair FIFO), however long each is delayed; different channels interleave as the seed says.
 */
export class SimLoop {
  private turns: Array<() => void> = [];
  private readonly channels = new Map<string, Delivery[]>();
  steps = 0;
  /** True while a step (and the microtasks it set off) runs. */
  inStep = false;

  constructor(
    readonly clock: VirtualClock,
    private readonly rng: SeededRandom,
    readonly budgets: Budgets,
    private readonly trace: Trace,
    /** Let what a step set off settle (microtasks, durable writes) before the next step. */
    private readonly settle: () => Promise<void>,
    /** Let everything pending run, however deep (one turn of the real event loop). */
    private readonly fullDrain: () => Promise<void>,
    private readonly beforeStep: () => void = () => undefined,
  ) {}

  /** The runtime's scheduler defers its turns here. */
  readonly defer = (fn: () => void): void => {
    this.turns.push(fn);
  };

  /** Queue a message on the channel from -> to, landing `delayMs` from now (never before an earlier one of the channel). */
  deliver(from: string, to: string, label: string, delayMs: number, fn: () => void): void {
    const key = `${from}>${to}`;
    let queue = this.channels.get(key);
    if (queue === undefined) this.channels.set(key, (queue = []));
    const last = queue.length > 0 ? queue[queue.length - 1].at : 0;
    queue.push({ at: Math.max(last, this.clock.now() + delayMs), label, fn });
  }

  /** Drop everything pending (the system it belonged to died). Returns how many messages were in flight. */
  clear(): number {
    let lost = 0;
    for (const q of this.channels.values()) lost += q.length;
    this.channels.clear();
    this.turns = [];
    this.clock.clear();
    return lost;
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.channels.values()) n += q.length;
    return n;
  }

  /** Is anything left to do at any time? */
  idle(): boolean {
    return this.turns.length === 0 && this.clock.pending === 0 && this.inFlight === 0;
  }

  /** How many steps are possible now (a turn, the earliest due timer, each channel whose head is due). */
  private dueCount(): number {
    const now = this.clock.now();
    let n = this.turns.length > 0 ? 1 : 0;
    const timer = this.clock.earliest();
    if (timer !== undefined && timer.at <= now) n++;
    for (const q of this.channels.values()) if (q.length > 0 && q[0].at <= now) n++;
    return n;
  }

  /** The i-th possible step, in the order dueCount counts them (no allocation per step on the hot path). */
  private dueAt(i: number): Candidate {
    const now = this.clock.now();
    if (this.turns.length > 0 && i-- === 0) return TURN;
    const timer = this.clock.earliest();
    if (timer !== undefined && timer.at <= now && i-- === 0) return TIMER;
    for (const [key, q] of this.channels) if (q.length > 0 && q[0].at <= now && i-- === 0) return { kind: 'channel', key };
    throw new Error('unreachable: no such step');
  }

  private nextAt(): number | undefined {
    let next = this.clock.earliest()?.at;
    for (const q of this.channels.values()) if (q.length > 0 && (next === undefined || q[0].at < next)) next = q[0].at;
    return next;
  }

  /**
   * Take steps until `stop()` says so, or nothing is left before `limit` (virtual ms; then time moves to the limit),
   * or nothing is left at all (limit undefined). Budgets are checked before every step.
   */
  async run(limit: number | undefined, stop: () => boolean = () => false): Promise<void> {
    for (;;) {
      if (stop()) return;
      let due = this.dueCount();
      if (due === 0) {
        // Before time jumps or the run ends: let every microtask left by the last steps run (a step's drain is
        // bounded, see settle), and look again.
        await this.fullDrain();
        due = this.dueCount();
      }
      if (due === 0) {
        const next = this.nextAt();
        if (next === undefined || (limit !== undefined && next > limit)) {
          if (limit !== undefined) this.clock.moveTo(limit);
          return;
        }
        if (next > this.budgets.maxVirtualMs) {
          throw new TimeBudgetExceededError(`virtual time budget exceeded: the next event is at ${next} ms, past maxVirtualMs ${this.budgets.maxVirtualMs} `
            + `(after ${this.steps} steps): something keeps re-arming timers (a restart loop, a poll); raise maxVirtualMs if the run is meant to be this long`, {
            details: { budget: 'maxVirtualMs', maxVirtualMs: this.budgets.maxVirtualMs, at: next, steps: this.steps },
          });
        }
        this.clock.moveTo(next);
        continue;
      }
      if (this.steps >= this.budgets.maxSteps) {
        throw new StepBudgetExceededError(`step budget exceeded: ${this.steps} steps taken (maxSteps ${this.budgets.maxSteps}) at virtual time ${this.clock.now()} ms `
          + 'with work still pending: the run does not terminate (messages keep producing messages?); raise maxSteps if it is meant to be this long', {
          details: { budget: 'maxSteps', maxSteps: this.budgets.maxSteps, at: this.clock.now() },
        });
      }
      const chosen = this.dueAt(due === 1 ? 0 : this.rng.int(due));
      this.steps++;
      this.inStep = true;
      try {
        this.beforeStep();
        this.take(chosen);
        await this.settle();
      } finally {
        this.inStep = false;
      }
    }
  }

  private take(c: Candidate): void {
    const at = this.clock.now();
    if (c.kind === 'turn') {
      // Turns of different (simulated) threads run in any order: the seed picks one.
      const fn = this.turns.length === 1 ? this.turns.shift()! : this.turns.splice(this.rng.int(this.turns.length), 1)[0];
      fn();
    } else if (c.kind === 'timer') {
      const fire = this.clock.take(this.clock.earliest()!);
      this.trace.record({ step: this.steps, at, what: 'timer', actor: '', detail: '' });
      fire();
    } else {
      const d = this.channels.get(c.key)!.shift()!;
      this.trace.record({ step: this.steps, at, what: 'deliver', actor: c.key, detail: d.label });
      d.fn();
    }
  }
}
