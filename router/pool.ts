import type { ActorDefinition, InitArgs, Route } from '../actors/define.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Supervisor } from '../supervisors/supervisor.ts';
import type { SupervisorSpec } from '../supervisors/spec.ts';
import { nanoid } from 'nanoid';
import { decideScaling, validatePoolOptions, type ScalingConfig, type ScalingState } from './policy/scaling.ts';

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
  scale?: Partial<ScalingConfig> | false;
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
  private scaling: ScalingState;
  private busy = false;
  private stopped = false;

  private constructor(private readonly runtime: Runtime, readonly id: string, private readonly def: D, private readonly options: PoolOptions<D>, private readonly sup: Supervisor, private readonly config: ScalingConfig | undefined) {
    this.route = Object.freeze({ capability: `pool:${id}`, ...(options.strategy ? { strategy: options.strategy } : {}) }) as Route<D>;
    this.scaling = { since: runtime.timeSource().now(), lastChange: -Infinity, over: false, idle: false };
  }

  static async start<D extends ActorDefinition>(runtime: Runtime, def: D, options: PoolOptions<D>): Promise<Pool<D>> {
    const config = validatePoolOptions(options);
    const id = options.id ?? `pool-${nanoid(8)}`;
    const sup = await runtime.supervise({ ...options.supervision, id, strategy: 'one-for-one', children: [] });
    const pool = new Pool(runtime, id, def, options, sup, config);
    try {
      for (let i = 0; i < options.min; i++) await pool.grow();
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
    const target = Math.max(this.options.min, Math.min(this.options.max, Math.floor(n)));
    while (this.members.length < target) await this.grow();
    while (this.members.length > target) await this.shrink();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.runtime.timeSource().clearTimer(this.timer);
    await this.sup.stop();
  }

  private async grow(): Promise<void> {
    const memberId = `${this.id}-${++this.seq}`;
    await this.sup.startChild({
      id: memberId, actor: this.def, args: this.options.args,
      capabilities: [...(this.options.capabilities ?? []), `pool:${this.id}`],
    });
    this.members.push(memberId);
  }

  /** The newest member goes (it has the least warm state); its queued mail, if any arrived meanwhile, is dead-lettered. */
  private async shrink(): Promise<void> {
    const memberId = this.members.pop();
    if (memberId !== undefined) await this.sup.stopChild(memberId);
  }

  private schedule(): void {
    if (this.config === undefined || this.stopped) return;
    this.timer = this.runtime.timeSource().setTimer(() => void this.sample(), this.config.intervalMs);
  }

  private async sample(): Promise<void> {
    if (this.stopped || this.busy) return this.schedule();
    this.busy = true;
    try {
      const stats = await this.runtime.stats();
      const mine = new Set(this.members);
      let backlog = 0;
      for (const node of stats.nodes) for (const a of node.actors) if (mine.has(a.id)) backlog += a.mailboxDepth;
      const now = this.runtime.timeSource().now();
      const { decision, state } = decideScaling(this.scaling, { size: this.members.length, backlog }, this.config!, now);
      this.scaling = state;
      if (decision.action === 'grow') for (let i = 0; i < decision.by && this.members.length < this.options.max; i++) await this.grow();
      else if (decision.action === 'shrink') for (let i = 0; i < decision.by && this.members.length > this.options.min; i++) await this.shrink();
    } catch {
      // The runtime is shutting down, or a thread was lost mid-sample: the next sample decides.
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
