import type { ActorRef } from '../actors/define.ts';
import type { ThreadServices } from '../runtime/extensions.ts';
import { DEFAULT_ASK_TIMEOUT_MS } from '../runtime/host.ts';
import { AskTimeoutError } from '../runtime/errors.ts';
import { InjectedFaultError } from './errors.ts';
import type { FaultPlan } from './faults.ts';
import type { SimLoop } from './loop.ts';
import type { SeededRandom } from './random.ts';
import { show } from './trace.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** `<to> '<type>'`: how messages are counted per receiver and type (invariants.ts, nothingLost). */
export const messageKey = (to: string, type: string): string => `${to} '${type}'`;

/**
 * The messages of the test and of the actors (ctx.tell, ask, send, and routes and publications on landing): each
 * travels in the simulation's channel from its sender to its receiver and lands in a step of its own, `delay` later
 * (the plan's `delay` faults plus the seed's draw up to maxDeliveryDelayMs), in order per pair.
 */
export class Deliveries {
  /** Messages landed since the system last started, per messageKey. */
  landed = new Map<string, number>();
  /** Messages lost with a simulated thread since the system last started, per messageKey. */
  lost = new Map<string, number>();
  /** Senders waiting (ask, send): rejected when the whole system crashes. */
  private readonly pending = new Set<(err: Error) => void>();
  /** Which incarnation of the system a waiting sender belongs to. */
  incarnation = 0;

  constructor(
    private readonly loop: SimLoop,
    private readonly clock: VirtualClock,
    private readonly plan: FaultPlan,
    private readonly delays: SeededRandom,
    private readonly maxDelayMs: number,
    private readonly record: (what: string, actor: string, detail: string) => void,
  ) {}

  /**
   * A message from `from` (an actor id, 'test'), landing in a step of its own. `senderAlive`: false once the
   * sender's simulated thread died (what it sent and had not yet posted died with it).
   */
  dispatch(from: string, to: string, type: string, payload: unknown, land: () => void, senderAlive?: () => boolean): void {
    const key = messageKey(to, type);
    this.loop.deliver(from, to, `${type} ${show(payload)}`, this.delay(from, to), () => {
      this.count(this.landed, key);
      if (senderAlive !== undefined && !senderAlive()) return this.count(this.lost, key);
      land();
    });
  }

  /** Like dispatch, for a message whose sender waits on a promise (ask, send). */
  later<T>(from: string, ref: ActorRef | { id?: string }, type: string, payload: unknown, land: () => Promise<T>, timeoutMs = DEFAULT_ASK_TIMEOUT_MS, senderAlive?: () => boolean): Promise<T> {
    const to = ref.id ?? 'route';
    return new Promise<T>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.pending.add(fail);
      const inc = this.incarnation;
      const settled = (): boolean => inc === this.incarnation && this.pending.delete(fail);
      // The sender's timeout counts from the send, the time the message spends on its way included (the runtime's
      // own timer, armed when it lands, fires later and finds the ask already answered).
      const timer = this.clock.setTimer(() => {
        if (settled()) reject(new AskTimeoutError('ask timed out'));
      }, timeoutMs);
      this.dispatch(from, to, type, payload, () => {
        land().then(
          (v) => {
            if (!settled()) return;
            this.clock.clearTimer(timer);
            this.record('reply', `${to}>${from}`, `${type} -> ${show(v)}`);
            resolve(v);
          },
          (e: unknown) => {
            if (!settled()) return;
            this.clock.clearTimer(timer);
            this.record('reply', `${to}>${from}`, `${type} -> ${(e as { code?: string })?.code ?? 'error'}`);
            reject(e);
          },
        );
      }, senderAlive);
    });
  }

  /**
   * The router's view of the kernel on one thread: a message addressed by capability is resolved when it is sent,
   * as the runtime does, and then travels like any other, from its sender to the actor picked, in that pair's
   * channel (so it keeps its place among the sender's other messages to that actor).
   */
  routed(services: ThreadServices, alive: () => boolean): ThreadServices {
    const sender = (from: string): string => (from === '' ? 'test' : from);
    return {
      ...services,
      tell: (ref, type, payload, from, trace) => this.dispatch(sender(from), ref.id, type, payload, () => services.tell(ref, type, payload, from, trace), alive),
      ask: (ref, type, payload, from, timeoutMs, trace) => this.later(sender(from), ref, type, payload, () => services.ask(ref, type, payload, from, timeoutMs, trace), timeoutMs, alive),
      send: (ref, type, payload, from, messageId, timeoutMs, trace) => this.later(sender(from), ref, type, payload, () => services.send(ref, type, payload, from, messageId, timeoutMs, trace), timeoutMs, alive),
    };
  }

  /** Virtual ms a message from `from` to `to` travels: the plan's delay faults, plus the seed's draw. */
  delay(from: string, to: string): number {
    let ms = 0;
    for (const f of this.plan) if (f.kind === 'delay' && (f.to === undefined || f.to === to) && (f.from === undefined || f.from === from)) ms += f.ms;
    return this.maxDelayMs > 0 ? ms + this.delays.range(0, this.maxDelayMs) : ms;
  }

  /** A message went down with a simulated thread. */
  lostWithThread(to: string, type: string): void {
    this.count(this.lost, messageKey(to, type));
  }

  /** The whole system crashed: waiting senders fail, counts start again. */
  systemCrashed(): void {
    this.incarnation++;
    for (const reject of this.pending) reject(new InjectedFaultError('the system crashed before this completed'));
    this.pending.clear();
    this.landed = new Map();
    this.lost = new Map();
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}
