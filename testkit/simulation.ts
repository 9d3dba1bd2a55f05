import { rmSync } from 'node:fs';
import type { ActorDefinition, ActorRef, Address, AnyActorDefinition, AskArgs, MessageType, PayloadArgs, Reply, SendArgs, SendReceipt } from '../actors/define.ts';
import type { SpawnOptions } from '../actors/context.ts';
import type { Supervisor } from '../supervisors/supervisor.ts';
import type { SupervisorSpec } from '../supervisors/spec.ts';
import { UnknownFaultTargetError } from './errors.ts';
import { checkThreads, type Fault } from './faults.ts';
import { validateOptions, type SimulationOptions } from './options.ts';
import { SimulatedSystem } from './system.ts';
import { SimulatedModel, type SimulatedModelOptions } from './model.ts';
import { useModelClient } from '../agents/model-client.ts';

export type { SimulationOptions } from './options.ts';

/**
 * A Troupe system in simulation: the user's definitions and supervision trees, unchanged, on a real Runtime under a
 * virtual clock and a seeded scheduler (testkit/loop.ts), on the main thread or on simulated worker threads
 * (testkit/sim-threads.ts), all in one real thread. Nothing moves between calls: advance(), runUntilIdle() and
 * until() take the steps (testkit/system.ts, with the rest of the machinery).
 */
export class Simulation extends SimulatedSystem {
  static async start(options: SimulationOptions): Promise<Simulation> {
    validateOptions(options);
    const sim = new Simulation(options);
    checkThreads(sim.plan, options.threads ?? 0);
    await sim.boot();
    // Taken at the end of the step in which it lands (settle), so the crash happens between two steps.
    for (const f of sim.plan) if (f.kind === 'crash-system' && 'atMs' in f) sim.loop.deliver('sim', 'system', `crash-system at ${f.atMs} ms`, f.atMs, () => void (sim.crashDue = true));
    sim.plan.forEach((f, i) => {
      if (f.kind === 'lose-thread' && 'thread' in f) sim.loop.deliver('sim', `thread ${f.thread} #${i}`, `lose-thread at ${f.atMs} ms`, f.atMs, () => sim.loseThread(f.thread, `fault at ${f.atMs} ms`));
    });
    return sim;
  }

  // ---- building the system ------------------------------------------------------------------------------------------

  /** Spawn as runtime.spawn does (its id defaults to `<kind>-<n>`, so runs stay reproducible). */
  spawn<D extends ActorDefinition>(definition: D, options: SpawnOptions<D> = {}): Promise<ActorRef<D>> {
    const id = options.id ?? this.instrument.nextId(definition.kind);
    return this.settleOn(this.rt.spawn(this.instrument.wrap(definition, id), { ...options, id }), false);
  }

  /** Start a supervision tree of the user's definitions (wrapped per child for faults and tracing). */
  supervise(spec: SupervisorSpec): Promise<Supervisor> {
    return this.settleOn(this.rt.supervise(this.instrument.wrapTree(spec)), false);
  }

  /**
   * A simulated Messages API for agents (testkit/model.ts): spawn them with `args: { endpoint: model.endpoint }`. It
   * answers from its script in virtual time and fails the requests the plan's 'model-error' faults name.
   */
  model(options: SimulatedModelOptions = {}): SimulatedModel {
    this.live();
    const n = this.models.length + 1;
    const model = new SimulatedModel(`sim://seed-${this.seed}/model-${n}`, {
      now: () => this.clock.now(),
      random: this.rng.fork(5000 + n),
      faults: this.plan.filter((f): f is Extract<Fault, { kind: 'model-error' }> => f.kind === 'model-error'),
      record: (w, a, d) => this.record(w, a, d),
    }, options);
    this.models.push({ model, release: useModelClient(model.baseURL, model) });
    return model;
  }

  // ---- the test's messages: each lands in a step of its own, in order per receiver -----------------------------------

  tell<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...payload: PayloadArgs<D, K>): void;
  tell(ref: ActorRef, type: string, payload?: unknown): void {
    this.live();
    // By capability: the router picks now, and the message travels to the actor picked (Deliveries.routed).
    if (isRoute(ref)) return this.rt.tell(ref, type as never, payload as never);
    this.dispatch('test', ref, type, payload, () => this.rt.tell(ref, type as never, payload as never));
  }

  ask<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>>;
  ask(ref: ActorRef, type: string, payload?: unknown, options?: { timeoutMs?: number }): Promise<unknown> {
    if (isRoute(ref)) {
      this.live();
      return this.rt.ask(ref, type as never, payload as never, options as never);
    }
    return this.later('test', ref, type, payload, () => this.rt.ask(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  send<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: SendArgs<D, K>): Promise<SendReceipt>;
  send(ref: ActorRef, type: string, payload?: unknown, options?: { messageId?: string; timeoutMs?: number }): Promise<unknown> {
    if (isRoute(ref)) {
      this.live();
      return this.rt.send(ref, type as never, payload as never, options as never);
    }
    return this.later('test', ref, type, payload, () => this.rt.send(ref, type as never, payload as never, options as never), options?.timeoutMs);
  }

  /** The ref of a running actor by id (refs are plain data: its thread is in it). */
  ref<D extends ActorDefinition = AnyActorDefinition>(id: string): ActorRef<D> {
    const ref = this.rt.localRef(id);
    if (ref === undefined) throw new UnknownFaultTargetError(`no running actor '${id}' in the simulation`, { details: { actor: id } });
    return ref as ActorRef<D>;
  }

  /** ask, then run until it settles. */
  call<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(ref: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>> {
    return this.until((this.ask as (r: unknown, t: unknown, ...a: unknown[]) => Promise<Reply<D, K>>)(ref, type, ...args));
  }

  /** A message from `from` (an actor id or 'test'), landing in a step of its own (instrument.ts routes ctx messages here). */
  dispatch(from: string, ref: { id?: string }, type: string, payload: unknown, land: () => void, senderAlive?: () => boolean): void {
    this.deliveries.dispatch(from, ref.id ?? 'route', type, payload, land, senderAlive);
  }

  /** Like dispatch, for a message whose sender waits on a promise (ask, send). */
  later<T>(from: string, ref: { id?: string }, type: string, payload: unknown, land: () => Promise<T>, timeoutMs?: number, senderAlive?: () => boolean): Promise<T> {
    this.live();
    return this.deliveries.later(from, ref, type, payload, land, timeoutMs, senderAlive);
  }

  /** The trace's hash: equal for equal runs. */
  hash(): string {
    return this.trace.digest();
  }

  timeline(): string {
    return this.trace.timeline();
  }

  /** The committed state of an actor (runtime.inspect). */
  async state<S = unknown>(id: string): Promise<S | undefined> {
    return (await this.until(this.rt.inspect(id, { state: true })))?.state as S | undefined;
  }

  /** Shut the runtime down (its supervision trees stop by their policies, in simulated time) and remove a temp store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // Stopping gets budgets of its own (a run that just exceeded its budget must still shut down), and a violation
    // already reported does not fail the shutdown.
    this.violations.length = 0;
    this.loop.budgets.maxSteps = this.loop.steps + 100_000;
    this.loop.budgets.maxVirtualMs = Math.max(this.loop.budgets.maxVirtualMs, this.clock.now() + 3_600_000);
    try {
      await this.settleOn(this.rt.shutdown(), false, true);
    } finally {
      this.stopped = true;
      for (const m of this.models) m.release();
      this.guard.uninstall();
      if (this.ownDir && this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** Faults of the plan (for helpers). */
  faultsOf(kind: Fault['kind']): Fault[] {
    return this.plan.filter((f) => f.kind === kind);
  }
}

/** A message addressed by capability (a Route) rather than by ref. */
function isRoute(ref: { id?: unknown }): boolean {
  return ref.id === undefined;
}
