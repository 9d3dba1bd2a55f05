import type { ActorDefinition, InitArgs, Route } from '../actors/define.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Supervisor } from '../supervisors/supervisor.ts';
import type { SupervisorSpec } from '../supervisors/spec.ts';
import { nanoid } from 'nanoid';
import { InvalidPoolOptionError } from './policy/errors.ts';
import { decide, validatePoolOptions, type PoolConfig, type PoolSample, type ScaleOptions } from './policy/scaling.ts';

/** Longest a shrinking pool waits for a withdrawn member's mailbox to empty before stopping it. */
const DRAIN_MS = 2000;

export interface PoolOptions<D extends ActorDefinition = ActorDefinition> {
  /** Names the pool (its supervisor, its members `<id>-<n>` and its capability `pool:<id>`). Generated when omitted. */
  id?: string;
  min: number;
  max: number;
  /** Offered by every member, on top of the definition's and `pool:<id>`. */
  capabilities?: readonly string[];
  args?: InitArgs<D>;
  /** The strategy of the pool's route (default least-loaded). */
  strategy?: string;
  /** When to grow and shrink (router/policy/scaling.ts); `false`: stay at `min`. */
  scale?: ScaleOptions | false;
  /** How often the backlog is sampled (default 500 ms). */
  sampleEveryMs?: number;
  /** The members' supervisor (one-for-one; its intensity, backoff, circuits...). */
  supervision?: Omit<SupervisorSpec, 'id' | 'children' | 'strategy'>;
}

/**
 * A pool of equal actors: between min and max members, spread over the worker threads (least-loaded placement),
 * supervised one-for-one, reached through one route. Its size follows the backlog per member, sampled every
 * `scale.intervalMs` by a pure policy; the sampling reads the runtime's stats (a control round trip per thread),
 * never the message path.
 */
export class Pool<D extends ActorDefinition = ActorDefinition> {
  /** Put this in messages: a route to whichever member the strategy picks. */
  readonly route: Route<D>;
  private readonly members: string[] = [];
  private seq = 0;
  private timer: unknown;
  private samples: PoolSample[] = [];
  private lastScaledAt = -Infinity;
  private busy = false;
  private sampling: Promise<void> | undefined;
  private stopped = false;

  private constructor(private readonly runtime: Runtime, readonly id: string, private readonly def: D, private readonly options: PoolOptions<D>, private readonly sup: Supervisor, private readonly config: PoolConfig) {
    this.route = Object.freeze({ capability: `pool:${id}`, ...(options.strategy ? { strategy: options.strategy } : {}) }) as Route<D>;
  }

  static async start<D extends ActorDefinition>(runtime: Runtime, def: D, options: PoolOptions<D>): Promise<Pool<D>> {
    const config = validatePoolOptions({ min: options.min, max: options.max, scale: options.scale });
    const every = options.sampleEveryMs ?? 500;
    if (!(every > 0)) throw new InvalidPoolOptionError(`pool option sampleEveryMs must be > 0 (got ${String(every)})`, { details: { option: 'sampleEveryMs' } });
    const id = options.id ?? `pool-${nanoid(8)}`;
    const sup = await runtime.supervise({ ...options.supervision, id, strategy: 'one-for-one', children: [] });
    const pool = new Pool(runtime, id, def, options, sup, config);
    try {
      for (let i = 0; i < config.min; i++) await pool.grow();
    } catch (err) {
      await sup.stop();
      throw err;
    }
    pool.schedule();
    return pool;
  }

  /** Member ids, oldest first. */
  memberIds(): readonly string[] {
    return this.members.slice();
  }

  get size(): number {
    return this.members.length;
  }

  /** Set the size by hand (within min..max). */
  async resize(n: number): Promise<void> {
    const target = Math.max(this.config.min, Math.min(this.config.max, Math.floor(n)));
    while (!this.stopped && this.members.length < target) await this.grow();
    while (!this.stopped && this.members.length > target) await this.shrink();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.runtime.timeSource().clearTimer(this.timer);
    await this.sampling; // a grow in progress finishes first, then everything stops
    await this.sup.stop();
  }

  private async grow(): Promise<void> {
    const memberId = `${this.id}-${++this.seq}`;
    await this.sup.startChild({
      id: memberId, actor: this.def, args: this.options.args,
      capabilities: [...(this.options.capabilities ?? []), `pool:${this.id}`],
    });
    this.members.push(memberId);
    // Stopped while it started: its supervisor may have stopped already, so it goes now (no orphan member).
    if (this.stopped) await this.sup.stopChild(memberId).catch(() => {});
  }

  /**
   * The newest member goes (it has the least warm state): first out of routing ('draining' on every thread), then
   * stopped once its mailbox is empty (at most DRAIN_MS), so what was routed to it is handled, not dead-lettered.
   */
  private async shrink(): Promise<void> {
    const memberId = this.members.pop();
    if (memberId === undefined) return;
    this.runtime.withdraw(memberId);
    const clock = this.runtime.timeSource();
    const until = clock.now() + DRAIN_MS;
    while (clock.now() < until && (await this.queued(memberId)) > 0) await new Promise((r) => clock.setTimer(() => r(undefined), 20));
    await this.sup.stopChild(memberId);
  }

  private async queued(memberId: string): Promise<number> {
    const stats = await this.runtime.stats();
    for (const node of stats.nodes) for (const a of node.actors) if (a.id === memberId) return a.mailboxDepth;
    return 0;
  }

  private schedule(): void {
    if (!this.config.autoscale || this.stopped) return;
    this.timer = this.runtime.timeSource().setTimer(() => void this.sample(), this.options.sampleEveryMs ?? 500);
  }

  private sample(): Promise<void> {
    return (this.sampling = this.sampleOnce());
  }

  private async sampleOnce(): Promise<void> {
    if (this.stopped || this.busy) return this.schedule();
    this.busy = true;
    try {
      const stats = await this.runtime.stats();
      const mine = new Set(this.members);
      let backlog = 0;
      for (const node of stats.nodes) for (const a of node.actors) if (mine.has(a.id)) backlog += a.mailboxDepth;
      const now = this.runtime.timeSource().now();
      // The samples the policy can use: those within the longer of its two windows.
      const keep = Math.max(this.config.growAfterMs, this.config.idleAfterMs) + 2 * (this.options.sampleEveryMs ?? 500);
      this.samples = this.samples.filter((x) => x.at >= now - keep);
      this.samples.push({ at: now, instances: this.members.length, backlog });
      const decision = decide(this.samples, this.config, now, this.lastScaledAt);
      if (decision.action === 'hold') return;
      for (let i = 0; i < decision.by && !this.stopped; i++) await (decision.action === 'grow' ? this.grow() : this.shrink());
      this.lastScaledAt = this.runtime.timeSource().now();
      this.samples = [];
    } catch {
      // The runtime is shutting down, or a thread was lost mid-sample: the next sample decides.
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
