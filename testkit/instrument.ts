import type { ActorContext } from '../actors/context.ts';
import type { ActorDefinition, ActorRef, Handler } from '../actors/define.ts';
import { isSupervisorSpec, type ChildSpec, type SupervisorSpec } from '../supervisors/spec.ts';
import { assertCloneable, undraft } from '../runtime/cloneable.ts';
import { InjectedFaultError } from './errors.ts';
import { ActorFaults, type FaultPlan } from './faults.ts';
import { show } from './trace.ts';
import type { Simulation } from './simulation.ts';

/** One message a handler started on. `outcome` is filled in when it finishes. */
export interface HandledMessage {
  actor: string;
  type: string;
  payload: unknown;
  incarnation: number;
  /** The system's incarnation (0 until the first simulated crash of the whole system). */
  system: number;
  at: number;
  outcome: 'applied' | 'crashed' | 'injected-crash' | 'thread-lost' | 'pending';
}

/**
 * The user's definitions, wrapped per actor id (the definition objects the user wrote are not touched): each
 * handler and init first asks the fault plan what to do, records what it handles in the trace, and gets a context
 * whose messages travel through the simulation's channels (so their landing is a scheduling choice too).
 */
export class Instrumentation {
  readonly known = new Set<string>();
  readonly handled: HandledMessage[] = [];
  /** What runs now, for a report of a real timer or I/O (set while a handler or init runs synchronously). */
  current: string | undefined;
  private readonly faults = new Map<string, ActorFaults>();
  /** The wrapped definition of each actor id (a simulated thread creates actors from their module and kind). */
  private readonly definitions = new Map<string, ActorDefinition>();
  private readonly ids = new Map<string, number>();
  private system = 0;
  /** Handlers still running, each with a function telling whether its thread is still alive. */
  private readonly running = new Map<HandledMessage, () => boolean>();

  constructor(private readonly sim: Simulation, private readonly plan: FaultPlan) {}

  nextId(kind: string): string {
    const n = (this.ids.get(kind) ?? 0) + 1;
    this.ids.set(kind, n);
    return `${kind}-${n}`;
  }

  systemRestarted(): void {
    this.system++;
    this.ids.clear();
    for (const h of this.running.keys()) h.outcome = 'crashed';
    this.running.clear();
  }

  private faultsFor(id: string): ActorFaults {
    let f = this.faults.get(id);
    if (f === undefined) this.faults.set(id, (f = new ActorFaults(this.plan.filter((x) => 'actor' in x && x.actor === id))));
    return f;
  }

  wrapTree(spec: SupervisorSpec): SupervisorSpec {
    return { ...spec, children: spec.children.map((c) => (isSupervisorSpec(c) ? this.wrapTree(c) : { ...c, actor: this.wrap((c as ChildSpec).actor, c.id) })) };
  }

  wrap<D extends ActorDefinition>(def: D, id: string): D {
    this.known.add(id);
    const faults = this.faultsFor(id);
    const handlers: Record<string, Handler<unknown>> = {};
    for (const [type, h] of Object.entries(def.handlers)) handlers[type] = (state, payload, ctx) => this.handle(id, def, type, h, state, payload, ctx, faults);
    const init = (args: unknown) => {
      const fail = faults.onInit();
      this.sim.record(fail ? 'fault' : 'start', id, fail ?? `${def.kind} start #${faults.starts}`);
      if (fail) throw new InjectedFaultError(`${id}: ${fail}`);
      return this.within(`init of actor '${id}' (kind ${def.kind})`, () => def.init(args));
    };
    const onTerminated = def.onTerminated === undefined ? undefined : (state: never, notice: never, ctx: ActorContext) => {
      this.sim.record('handle', id, `terminated ${show(notice)}`);
      return this.within(`onTerminated of actor '${id}'`, () => def.onTerminated!(state, notice, this.context(ctx)));
    };
    const wrapped = Object.freeze({ ...def, init, handlers, onTerminated }) as D;
    this.definitions.set(id, wrapped);
    return wrapped;
  }

  /** The wrapped definition actor `id` of `kind` was spawned with (RuntimeHarness.definition). */
  definition(kind: string, id: string): ActorDefinition | undefined {
    const def = this.definitions.get(id);
    return def?.kind === kind ? def : undefined;
  }

  private within<T>(where: string, fn: () => T): T {
    const before = this.current;
    this.current = where;
    try {
      return fn();
    } finally {
      this.current = before;
    }
  }

  private handle(id: string, def: ActorDefinition, type: string, h: Handler<unknown>, state: unknown, payload: unknown, ctx: ActorContext, faults: ActorFaults): unknown {
    const plan = faults.onMessage(type, payload);
    const entry: HandledMessage = { actor: id, type, payload, incarnation: ctx.incarnation, system: this.system, at: this.sim.now, outcome: 'pending' };
    this.handled.push(entry);
    this.sim.record('handle', id, `${type} ${show(payload)}${plan.crash ? ` -> ${plan.crash}` : plan.loseThread ? ` -> ${plan.loseThread}` : plan.stallMs ? ` (stalls ${plan.stallMs} ms)` : ''}`);
    if (plan.loseThread !== undefined && this.sim.loseThreadOf(id, ctx.self.node, `${id}: ${plan.loseThread}`)) {
      // Nothing more runs on that thread: the handler does not either (what it throws stays there).
      entry.outcome = 'thread-lost';
      this.sim.lostWithThread(id, type);
      throw new InjectedFaultError(`${id}: ${plan.loseThread}`);
    }
    if (plan.crash !== undefined) {
      entry.outcome = 'injected-crash';
      throw new InjectedFaultError(`${id}: ${plan.crash}`);
    }
    const where = `handler '${type}' of actor '${id}' (kind ${def.kind})`;
    const c = this.context(ctx);
    let result: unknown;
    try {
      result = plan.stallMs === undefined
        ? this.within(where, () => h(state as never, payload, c))
        : this.sleep(plan.stallMs).then(() => this.within(where, () => h(state as never, payload, c)));
    } catch (err) {
      entry.outcome = 'crashed';
      throw err;
    }
    if (!(result instanceof Promise)) {
      entry.outcome = 'applied';
      return result;
    }
    this.running.set(entry, this.sim.threadLiveness(ctx.self.node));
    const done = (outcome: HandledMessage['outcome']) => {
      if (!this.running.delete(entry)) return;
      entry.outcome = outcome;
      // Settled while no step runs: it waited on real I/O or a real timer (it would land anywhere in a replay).
      if (!this.sim.inStep) this.sim.violation('async-io', where);
    };
    result.then(() => done('applied'), () => done('crashed'));
    return result;
  }

  /** Handlers still running with nothing left in the simulation to finish them: they await something real. */
  checkStuck(): void {
    for (const [h, alive] of this.running) {
      if (!alive()) {
        // Its thread died while it waited (a timer or a reply that went down with the thread): it never finishes.
        h.outcome = 'thread-lost';
        this.running.delete(h);
      } else if (h.system === this.system) this.sim.violation('async-io', `handler '${h.type}' of actor '${h.actor}' (still running when the simulation went idle)`);
    }
  }

  /** A virtual-time wait (a stalled handler). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sim.clock.setTimer(resolve, ms));
  }

  /** The handler's context, with tell/ask/send routed through the simulation and deterministic ids for spawns. */
  private context(ctx: ActorContext): ActorContext {
    let cached = this.contexts.get(ctx);
    if (cached === undefined) this.contexts.set(ctx, (cached = this.makeContext(ctx)));
    return cached;
  }

  /** One per actor context (the runtime keeps one per actor), made on its first message. */
  private readonly contexts = new WeakMap<ActorContext, ActorContext>();

  private makeContext(ctx: ActorContext): ActorContext {
    const sim = this.sim;
    const from = ctx.self.id;
    const alive = sim.threadLiveness(ctx.self.node);
    const c = Object.create(ctx) as Record<string, unknown>;
    const direct = (ref: ActorRef): boolean => (ref as { id?: string }).id === undefined; // a route: the router picks now, and the message then travels through the channels (Deliveries.routed)
    c.tell = (ref: ActorRef, type: string, payload?: unknown) => {
      if (direct(ref)) return ctx.tell(ref, type as never, payload as never);
      const value = undraft(payload);
      assertCloneable(value, 'payload of', type);
      sim.dispatch(from, ref, type, value, () => ctx.tell(ref, type as never, value as never), alive);
    };
    c.ask = (ref: ActorRef, type: string, payload?: unknown, options?: unknown) => {
      if (direct(ref)) return ctx.ask(ref, type as never, payload as never, options as never);
      const value = undraft(payload);
      assertCloneable(value, 'payload of', type);
      return sim.later(from, ref, type, value, () => ctx.ask(ref, type as never, value as never, options as never), (options as { timeoutMs?: number } | undefined)?.timeoutMs, alive);
    };
    c.send = (ref: ActorRef, type: string, payload?: unknown, options?: unknown) => {
      if (direct(ref)) return ctx.send(ref, type as never, payload as never, options as never);
      const value = undraft(payload);
      assertCloneable(value, 'payload of', type);
      return sim.later(from, ref, type, value, () => ctx.send(ref, type as never, value as never, options as never), (options as { timeoutMs?: number } | undefined)?.timeoutMs, alive);
    };
    c.spawn = (def: ActorDefinition, options: { id?: string } = {}) => {
      const id = options.id ?? this.nextId(def.kind);
      return ctx.spawn(this.wrap(def, id), { ...options, id } as never);
    };
    return c as unknown as ActorContext;
  }
}
