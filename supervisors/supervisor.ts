import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import type { Clock } from '../runtime/clock.ts';
import type { ErrorData } from '../runtime/errors.ts';
import {
  Backoff, CircuitBreaker, RestartCredit, RestartIntensity, affectedChildren, creditEligible, shouldRestart, type CircuitSnapshot,
  type ExitReason,
} from './policy/index.ts';
import { defaults, isSupervisorSpec, validateChild, validateSupervisor, type ChildSpec, type SupervisorSpec } from './spec.ts';

/** What a supervisor needs from the runtime (the plumbing); the Runtime implements it. */
export interface SupervisionPort {
  readonly clock: Clock;
  random(): number;
  /** `credit`: restarts the child's thread may make by itself (see RestartCredit). */
  spawnChild(spec: ChildSpec, owner: Supervisor, stash: number, pin?: number, credit?: number): Promise<ActorRef>;
  restart(ref: ActorRef, credit: number): void;
  /** More restart credit for a running child (dropped by its thread if it crashed meanwhile). */
  grant(ref: ActorRef, credit: number): void;
  /** Take a child's credit back; its thread answers with `childRevoked(id, seq)`. */
  revoke(ref: ActorRef, seq: number): void;
  /** `retryAt`: when its trial will be admitted, on this port's clock. */
  openCircuit(ref: ActorRef, retryAt: number): void;
  halfOpen(ref: ActorRef): void;
  stop(ref: ActorRef): Promise<void>;
  kill(ref: ActorRef, reason: string): Promise<void>;
  release(id: string): void;
  report(crash: CrashReport): void;
}

export type Decision =
  | 'restart' | 'restart-all' | 'restart-rest' | 'escalate' | 'open-circuit' | 'reopen-circuit' | 'remove' | 'ignore';

/** One crash, as the supervisor saw it and what it decided. */
export interface CrashReport {
  actorId: string;
  kind: string;
  supervisor: string;
  messageType: string;
  error: ErrorData;
  restartCount: number;
  decision: Decision;
  /** Delay before the restart, when there is one. */
  delayMs?: number;
  at: number;
  /**
   * The child's thread restarted it at once under restart credit, and this report was made when the supervisor
   * heard of it; the decision is the one the supervisor would have made (see supervisors/policy/credit.ts).
   */
  local?: true;
  /** The incarnation that crashed, as its thread counts them (absent for exits and supervisors). */
  incarnation?: number;
  /** The trace id of the handling that crashed (absent for an untraced message, exits and supervisors). */
  traceId?: string;
}

/** What the crashing thread knows of a crash beyond its cause (CrashReport's fields of the same names). */
export interface CrashFacts {
  incarnation?: number;
  traceId?: string;
}

export type ChildStatus = 'starting' | 'running' | 'restarting' | 'circuit-open' | 'half-open' | 'stopping' | 'stopped';

export interface ChildInfo {
  id: string;
  type: 'actor' | 'supervisor';
  status: ChildStatus;
  restarts: number;
  circuit?: CircuitSnapshot;
  node?: number;
}

interface Child {
  id: string;
  spec: ChildSpec | SupervisorSpec;
  status: ChildStatus;
  restarts: number;
  ref?: ActorRef;
  sub?: Supervisor;
  backoff: Backoff;
  /** 'open-circuit' mode: the child's own intensity window (and the credit granted against it). */
  budget?: Budget;
  breaker?: CircuitBreaker;
  timer?: unknown;
  /** The child's actor is gone (stopped itself, or lost with no stand-in): a restart must spawn it again. */
  gone?: boolean;
  /**
   * Its thread died and is being replaced; a stand-in takes its place there (see `childLost`). Until then nothing
   * is sent to it: no restart, trial, credit or stop (the stand-in is synced with this supervisor's view after).
   */
  lost?: boolean;
  /** Its actor is being spawned (a revocation waits for the spawn, which carries the credit). */
  spawning?: boolean;
  /** The revocation of its credit that is awaited, if any. */
  revokeSeq?: number;
}

/** An intensity window and the restart credit granted against it. */
interface Budget {
  window: RestartIntensity;
  credits: RestartCredit<Child>;
}

/**
 * An OTP-style supervisor, living on the main thread (the control plane). Children run wherever they are placed;
 * their crashes are reported here, the pure policies (intensity, backoff, circuit, strategy) decide, and the
 * decision is sent back to the child's thread, which restarts it in place: same id, same mailbox.
 *
 * Restart credit (supervisors/policy/credit.ts) saves that round trip where the decision is known in advance
 * (one-for-one, no backoff, room left in the window): the child's thread restarts it at once and the supervisor
 * records the restart when the report arrives. A crash decided here that would need the room promised as credit
 * waits until that credit is revoked, so the restarts already made under it are counted first.
 */
export class Supervisor {
  readonly id: string;
  /** Children in start order, and by id (a pool may hold thousands: lookups must not scan). */
  private readonly kids: Child[] = [];
  private readonly byId = new Map<string, Child>();
  /** The window counted over all children ('escalate' mode). */
  private readonly shared: Budget;
  private readonly backoffMinMs: number;
  /** Children whose credit is being revoked, and the decisions waiting for that (in arrival order). */
  private readonly revoking = new Set<Child>();
  private readonly parked: Array<() => void> = [];
  private draining = false;
  private revokeSeq = 0;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' = 'idle';
  private failureListeners = new Set<(report: CrashReport) => void>();

  constructor(private readonly port: SupervisionPort, readonly spec: SupervisorSpec, private readonly parent?: Supervisor) {
    this.id = spec.id;
    const window = new RestartIntensity({ ...defaults.intensity, ...spec.intensity });
    this.shared = { window, credits: new RestartCredit(window) };
    this.backoffMinMs = { ...defaults.backoff, ...spec.backoff }.minMs;
  }

  private get circuitMode(): boolean {
    return this.spec.onExhausted === 'open-circuit';
  }

  /** Start the children in declaration order; if one fails, stop those started (reverse order) and reject. */
  async start(): Promise<void> {
    this.state = 'running';
    try {
      for (const spec of this.spec.children) await this.addChild(spec);
    } catch (err) {
      await this.stopChildren();
      this.state = 'stopped';
      throw err;
    }
  }

  /** Add and start a child of a running supervisor (e.g. one more agent in a pool). */
  async startChild(spec: ChildSpec | SupervisorSpec): Promise<ActorRef | Supervisor> {
    const taken = new Set(this.byId.keys());
    if (isSupervisorSpec(spec)) validateSupervisor(spec, taken);
    else validateChild(spec, taken);
    const child = await this.addChild(spec);
    return child.sub ?? child.ref!;
  }

  /** Stop a child with its shutdown policy and remove it. */
  async stopChild(id: string): Promise<void> {
    const child = this.byId.get(id);
    if (child === undefined) return;
    await this.stopOne(child);
    this.remove(child);
  }

  /** Stop every child in reverse start order, then this supervisor. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    await this.stopChildren();
    this.state = 'stopped';
  }

  /** The ref of a child actor (stable across restarts); name its definition for typed messages: `ref<typeof agent>('a1')`. */
  ref<D extends ActorDefinition = ActorDefinition>(id: string): ActorRef<D> | undefined {
    return this.byId.get(id)?.ref as ActorRef<D> | undefined;
  }

  child(id: string): Supervisor | undefined {
    return this.byId.get(id)?.sub;
  }

  children(): ChildInfo[] {
    const now = this.port.clock.now();
    return this.kids.map((k) => {
      const info: ChildInfo = { id: k.id, type: k.sub ? 'supervisor' : 'actor', status: k.status, restarts: k.restarts };
      if (k.breaker) info.circuit = k.breaker.snapshot(now);
      if (k.ref) info.node = k.ref.node;
      return info;
    });
  }

  get status(): 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' {
    return this.state;
  }

  /** Called when this (root) supervisor gives up: its intensity ran out and it has no parent to escalate to. */
  onFailure(listener: (report: CrashReport) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  // ---- reports from the children's threads ---------------------------------------------------------------------

  /**
   * A crash to decide here (any credit the child held is forfeited with it). `stopping`: it crashed with a stop
   * queued and stopped instead (runtime/supervision.ts): recorded, nothing to decide; its 'gone' follows.
   */
  childCrashed(id: string, kind: string, messageType: string, error: ErrorData, trial: boolean, stopping = false, facts: CrashFacts = {}): void {
    const child = this.byId.get(id);
    if (child === undefined) return;
    this.forfeit(child);
    const report = this.reporter(child, kind, messageType, error, false, facts);
    if (stopping) return void report('ignore');
    // Decisions keep their arrival order: none overtakes one waiting for a revocation.
    if (this.revoking.size > 0 || this.parked.length > 0 || this.draining) this.parked.push(() => this.decideIfChild(child, trial, report));
    else this.decide(child, trial, report);
  }

  /** A crash its thread already restarted under credit: count it as the restart the supervisor would have made. */
  childRestartedLocally(id: string, kind: string, messageType: string, error: ErrorData, facts: CrashFacts = {}): void {
    const child = this.byId.get(id);
    if (child === undefined) return;
    this.decide(child, false, this.reporter(child, kind, messageType, error, true, facts), true);
  }

  /** A child's thread gave its credit back (answering revocation `seq`). */
  childRevoked(id: string, seq: number): void {
    const child = this.byId.get(id);
    if (child !== undefined && child.revokeSeq === seq) this.forfeit(child);
  }

  /** A child's actor terminated without being asked to by this supervisor (it stopped itself, or its thread died). */
  childGone(id: string, reason: string): void {
    const child = this.byId.get(id);
    if (child === undefined) return;
    this.forfeit(child); // its credit died with it
    if (child.status === 'stopping' || child.status === 'stopped') return;
    child.gone = true;
    const exit: ExitReason = reason === 'stopped' ? 'normal' : reason === 'shutdown' ? 'shutdown' : 'crash';
    const spec = child.spec as ChildSpec;
    if (!shouldRestart(spec.restart ?? 'permanent', exit)) {
      this.port.release(id);
      this.remove(child);
      return;
    }
    // Circuit open: nothing was running, so nothing crashed; openCircuit's timer spawns it again for its trial.
    // (Deciding here would count a restart and could restart it while the circuit is still open.)
    if (child.status === 'circuit-open') return;
    // Half-open: the incarnation admitted for the one trial is lost, so the trial failed.
    this.childCrashed(id, spec.actor.kind, '$exit', { name: 'Exit', message: `exited: ${reason}` }, child.status === 'half-open');
  }

  /**
   * The thread hosting the child's actor died. True when the child is to be restarted: a stand-in then takes its
   * place on the thread that replaces the lost one (`standIn`), and watches on it are kept. False when it is not
   * (it is being stopped, or is temporary): it is gone for good, and its watchers are told so.
   */
  childLost(id: string): boolean {
    const child = this.byId.get(id);
    if (child === undefined || child.ref === undefined || child.gone || child.lost) return false;
    this.forfeit(child); // its credit died with it
    if (child.status === 'stopping' || child.status === 'stopped') {
      child.gone = true;
      return false;
    }
    if (!shouldRestart((child.spec as ChildSpec).restart ?? 'permanent', 'crash')) {
      child.gone = true;
      this.port.release(id);
      this.remove(child);
      return false;
    }
    child.lost = true;
    return true;
  }

  /**
   * What stands in for a lost child on the replacement thread, created there before any mail can reach it: not
   * running, its mail held for the incarnation this supervisor's decision will start ('restarting'), or failing
   * fast while its circuit is open ('open', until `retryAt`). Undefined when it is no longer wanted.
   */
  standIn(id: string): { spec: ChildSpec; stash: number; phase: 'restarting' | 'open'; retryAt: number } | undefined {
    const child = this.byId.get(id);
    if (child === undefined || !child.lost || child.status === 'stopping' || child.status === 'stopped') return undefined;
    const open = child.status === 'circuit-open';
    const now = this.port.clock.now();
    return { spec: child.spec as ChildSpec, stash: this.spec.stash ?? defaults.stash, phase: open ? 'open' : 'restarting', retryAt: open ? child.breaker!.retryAt(now) ?? now : 0 };
  }

  /**
   * The lost child's thread is back, with its stand-in (`stoodIn`: the phase it was created in) or without (it
   * could not be created there: the child is then gone and is spawned again for its restart). From here on the loss is
   * handled as a crash on a live thread: the stand-in is restarted, or its circuit opened, by the decision. False:
   * the child is no longer wanted (stopped or removed meanwhile) and the runtime stops the stand-in.
   */
  childReplaced(id: string, stoodIn: 'restarting' | 'open' | undefined): boolean {
    const child = this.byId.get(id);
    if (child === undefined || !child.lost) return false;
    child.lost = false;
    const now = this.port.clock.now();
    if (child.status === 'circuit-open') {
      // Nothing was running, so nothing crashed. The trial, held off while the child was lost, is admitted when due.
      // (Opened while it was lost, after its stand-in was made: the stand-in is told.)
      if (stoodIn === 'restarting') this.port.openCircuit(child.ref!, child.breaker!.retryAt(now) ?? now);
      if (stoodIn === undefined) child.gone = true;
      if (child.timer === undefined) this.armTrial(child, Math.max(0, (child.breaker!.retryAt(now) ?? now) - now));
      return stoodIn !== undefined;
    }
    if (stoodIn === undefined) {
      this.childGone(id, 'worker-lost');
      return false;
    }
    if (child.status === 'stopping' || child.status === 'stopped') return false;
    // Half-open: the incarnation admitted for the one trial was lost, so the trial failed.
    this.childCrashed(id, (child.spec as ChildSpec).actor.kind, '$exit', { name: 'Exit', message: 'exited: worker-lost' }, child.status === 'half-open');
    return true;
  }

  /**
   * An operator's reset of a child's open circuit: its breaker is closed (open time back to its base), its restart
   * window and backoff cleared, and it restarts now instead of waiting for its trial. False when the child's
   * circuit is not open (closed, or a trial is in flight: its outcome decides) or its thread is being replaced.
   */
  resetCircuit(id: string): boolean {
    const child = this.byId.get(id);
    if (child === undefined || child.breaker === undefined || child.status !== 'circuit-open' || child.lost || this.state !== 'running') return false;
    if (child.timer !== undefined) this.port.clock.clearTimer(child.timer);
    child.timer = undefined;
    child.breaker = new CircuitBreaker({ ...defaults.circuit, ...this.spec.circuit });
    child.budget?.window.reset();
    child.backoff.reset();
    child.status = 'restarting';
    void this.restartGroup([child]);
    return true;
  }

  childTrialSucceeded(id: string): void {
    const child = this.byId.get(id);
    if (child?.breaker === undefined) return;
    child.breaker.trialSucceeded();
    child.budget?.window.reset();
    child.backoff.reset();
    child.status = 'running';
    this.topUp(child);
  }

  private reporter(child: Child, kind: string, messageType: string, error: ErrorData, local: boolean, facts: CrashFacts = {}): (d: Decision, delayMs?: number) => CrashReport {
    return (decision, delayMs) => {
      const r: CrashReport = { actorId: child.id, kind, supervisor: this.id, messageType, error, restartCount: child.restarts, decision, at: this.port.clock.now() };
      if (delayMs !== undefined) r.delayMs = delayMs;
      if (local) r.local = true;
      if (facts.incarnation !== undefined) r.incarnation = facts.incarnation;
      if (facts.traceId !== undefined) r.traceId = facts.traceId;
      this.port.report(r);
      return r;
    };
  }

  // ---- decisions -----------------------------------------------------------------------------------------------

  /** `local`: the child's thread already restarted it under credit; what is left is to count it and report it. */
  private decide(child: Child, trial: boolean, report: (d: Decision, delayMs?: number) => CrashReport, local = false): void {
    const now = this.port.clock.now();
    const { window, credits } = this.budget(child);
    if (local) credits.spent(child);
    else {
      if (this.state !== 'running' || child.status === 'stopping') return void report('ignore');
      if (trial && child.breaker) {
        child.breaker.trialFailed(now);
        report('reopen-circuit');
        return this.openCircuit(child);
      }
      const restart = isSupervisorSpec(child.spec) ? child.spec.restart : child.spec.restart;
      if (!shouldRestart(restart ?? 'permanent', 'crash')) {
        report('remove');
        this.remove(child);
        void this.stopOne(child);
        return;
      }
      // Room promised as credit: take it back first, so that restarts already made under it count before this one.
      if (credits.mustRevokeBefore(now)) return this.revokeThen(credits, () => this.decideIfChild(child, trial, report));
    }
    // Never exhausted under credit (RestartCredit's invariant); if it were, the usual verdict still applies.
    if (window.record(now) === 'exhausted') {
      if (this.circuitMode) {
        child.breaker ??= new CircuitBreaker({ ...defaults.circuit, ...this.spec.circuit });
        child.breaker.tripped(now);
        report('open-circuit');
        return this.openCircuit(child);
      }
      const r = report('escalate');
      return void this.escalate(r);
    }
    const strategy = this.spec.strategy ?? 'one-for-one';
    const delayMs = child.backoff.next(now);
    report(strategy === 'one-for-one' ? 'restart' : strategy === 'one-for-all' ? 'restart-all' : 'restart-rest', delayMs);
    child.restarts++;
    if (local) {
      // Already running its new incarnation: only its credit is renewed.
      if (this.state === 'running' && child.status === 'running') this.topUp(child);
      return;
    }
    // Siblings whose circuit is open (or on trial) stay as they are: a group restart must not bypass a breaker.
    const affected = strategy === 'one-for-one'
      ? [child]
      : affectedChildren(strategy, this.kids.map((k) => k.id), child.id)
        .map((id) => this.byId.get(id)!)
        .filter((k) => k === child || (k.status !== 'circuit-open' && k.status !== 'half-open'));
    for (const k of affected) k.status = 'restarting';
    // A restart still pending (the child's thread died while it backed off) is replaced by this one: left armed,
    // it would restart the child before this delay and cut a later backoff short.
    if (child.timer !== undefined) this.port.clock.clearTimer(child.timer);
    child.timer = undefined;
    const go = () => void this.restartGroup(affected);
    if (delayMs > 0) child.timer = this.port.clock.setTimer(go, delayMs);
    else go();
  }

  /** A parked decision: dropped if the child was removed meanwhile (as a report about a removed child is). */
  private decideIfChild(child: Child, trial: boolean, report: (d: Decision, delayMs?: number) => CrashReport): void {
    if (this.byId.get(child.id) === child) this.decide(child, trial, report);
  }

  /** Restart children in start order: in place when their actor still exists, spawned again when it is gone. */
  private async restartGroup(group: Child[]): Promise<void> {
    for (const k of group) {
      // A lost child is restarted once its thread is back (childReplaced decides again, as for a crash).
      if (k.status !== 'restarting' || this.state !== 'running' || k.lost) continue;
      k.timer = undefined;
      if (k.sub) {
        await k.sub.stop();
        k.sub = new Supervisor(this.port, k.spec as SupervisorSpec, this);
        await k.sub.start().catch(() => undefined);
      } else if (k.gone) {
        k.gone = false;
        const spec = k.spec as ChildSpec;
        try {
          await this.spawn(k, spec, spec.pin ?? k.ref?.node);
        } catch (err) {
          k.gone = true;
          this.childCrashed(k.id, spec.actor.kind, '$init', { name: 'Error', message: String((err as Error)?.message ?? err) }, false);
          continue;
        }
      } else {
        // Running before the command goes out: on the main thread a restart that fails reports its crash (and this
        // supervisor decides again, status 'restarting') inside port.restart, which must not be overwritten after.
        const credit = this.creditFor(k);
        k.status = 'running';
        this.port.restart(k.ref!, credit);
        continue;
      }
      k.status = 'running';
    }
  }

  private openCircuit(child: Child): void {
    const now = this.port.clock.now();
    const retryAt = child.breaker!.retryAt(now) ?? now;
    child.status = 'circuit-open';
    if (child.timer !== undefined) this.port.clock.clearTimer(child.timer);
    if (child.ref && !child.gone && !child.lost) this.port.openCircuit(child.ref, retryAt);
    this.armTrial(child, retryAt - now);
  }

  /** When the open time is over, admit the one trial. */
  private armTrial(child: Child, delayMs: number): void {
    child.timer = this.port.clock.setTimer(() => {
      child.timer = undefined;
      if (this.state !== 'running' || child.status !== 'circuit-open' || child.lost) return; // lost: re-armed by childReplaced
      const now = this.port.clock.now();
      // Node's timers can fire a little early (whole milliseconds on a cached loop time): wait out the rest
      // rather than give up, or the circuit would stay open for good.
      const retryAt = child.breaker!.retryAt(now);
      if (retryAt !== undefined) return this.armTrial(child, retryAt - now);
      if (!child.breaker!.tryAdmit(now)) return;
      if (!child.gone) {
        child.status = 'half-open';
        return this.port.halfOpen(child.ref!);
      }
      // Its actor is gone (lost with its thread): spawn it again, then let it take the one trial.
      child.status = 'restarting';
      void this.restartGroup([child]).then(() => {
        if (child.status !== 'running' || child.gone) return;
        child.status = 'half-open';
        this.port.halfOpen(child.ref!);
      });
    }, delayMs);
  }

  /** Intensity ran out: stop every child and let the parent decide; a root supervisor fails for good. */
  private async escalate(report: CrashReport): Promise<void> {
    this.state = 'stopping';
    await this.stopChildren();
    this.state = 'failed';
    if (this.parent) this.parent.childCrashed(this.id, 'supervisor', report.messageType, report.error, false);
    else for (const l of this.failureListeners) l(report);
  }

  // ---- restart credit ------------------------------------------------------------------------------------------

  /** The intensity window a restart of `child` counts in, with the credit granted against it. */
  private budget(child: Child): Budget {
    if (!this.circuitMode) return this.shared;
    if (child.budget === undefined) {
      const window = new RestartIntensity({ ...defaults.intensity, ...this.spec.intensity });
      child.budget = { window, credits: new RestartCredit(window) };
    }
    return child.budget;
  }

  /** Credit to grant `child` now (recorded as granted): 0 unless a crash of it would surely be restarted at once. */
  private creditFor(child: Child): number {
    if (this.state !== 'running' || this.revoking.size > 0 || isSupervisorSpec(child.spec) || child.lost) return 0;
    if (!creditEligible({ strategy: this.spec.strategy ?? 'one-for-one', backoffMinMs: this.backoffMinMs, restart: child.spec.restart ?? 'permanent' })) return 0;
    const now = this.port.clock.now();
    if (child.breaker !== undefined && child.breaker.state(now) !== 'closed') return 0;
    return this.budget(child).credits.grant(child, now);
  }

  /** Renew the credit of a running child. */
  private topUp(child: Child): void {
    if (child.ref === undefined || child.gone || child.lost || child.spawning) return;
    const credit = this.creditFor(child);
    if (credit > 0) this.port.grant(child.ref, credit);
  }

  /** `child`'s credit is void (its crash came here, it is gone or stopped, or it gave the credit back). */
  private forfeit(child: Child): void {
    this.budget(child).credits.forfeit(child);
    child.revokeSeq = undefined;
    if (this.revoking.delete(child) && this.revoking.size === 0) this.drain();
  }

  /** Park `decision` (ahead of those parked after it arrived) until every holder of `credits` has given it back. */
  private revokeThen(credits: RestartCredit<Child>, decision: () => void): void {
    this.parked.unshift(decision);
    const holders = credits.holders().filter((k) => !this.revoking.has(k));
    for (const k of holders) this.revoking.add(k);
    for (const k of holders) {
      if (!k.spawning) this.sendRevoke(k); // else sent once the spawn (which carries the credit) is out
    }
  }

  private sendRevoke(child: Child): void {
    if (child.ref === undefined || child.gone || child.lost) return this.forfeit(child);
    child.revokeSeq = ++this.revokeSeq;
    this.port.revoke(child.ref, child.revokeSeq);
  }

  /** Run the parked decisions in order, until one of them has to wait for a revocation again. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.revoking.size === 0 && this.parked.length > 0) this.parked.shift()!();
    } finally {
      this.draining = false;
    }
  }

  // ---- starting and stopping -----------------------------------------------------------------------------------

  /** Spawn `child`'s actor with the credit it may have; a revocation asked for meanwhile follows the spawn. */
  private async spawn(child: Child, spec: ChildSpec, pin: number | undefined): Promise<void> {
    const credit = this.creditFor(child);
    child.spawning = true;
    try {
      child.ref = await this.port.spawnChild(spec, this, this.spec.stash ?? defaults.stash, pin, credit);
    } catch (err) {
      child.spawning = false;
      this.forfeit(child);
      throw err;
    }
    child.spawning = false;
    if (this.revoking.has(child)) this.sendRevoke(child);
  }

  private async addChild(spec: ChildSpec | SupervisorSpec): Promise<Child> {
    const child: Child = {
      id: spec.id, spec, status: 'starting', restarts: 0,
      backoff: new Backoff({ ...defaults.backoff, ...this.spec.backoff }, () => this.port.random()),
    };
    this.kids.push(child);
    this.byId.set(child.id, child);
    try {
      if (isSupervisorSpec(spec)) {
        child.sub = new Supervisor(this.port, spec, this);
        await child.sub.start();
      } else {
        await this.spawn(child, spec, spec.pin);
      }
    } catch (err) {
      this.remove(child);
      throw err;
    }
    child.status = 'running';
    return child;
  }

  private remove(child: Child): void {
    this.forfeit(child);
    this.kids.splice(this.kids.indexOf(child), 1);
    this.byId.delete(child.id);
  }

  private async stopChildren(): Promise<void> {
    for (const child of [...this.kids].reverse()) await this.stopOne(child);
  }

  private async stopOne(child: Child): Promise<void> {
    if (child.status === 'stopped') return;
    child.status = 'stopping';
    if (child.timer !== undefined) this.port.clock.clearTimer(child.timer);
    if (child.sub) await child.sub.stop();
    else if (child.ref && !child.gone && !child.lost) {
      const policy = (child.spec as ChildSpec).shutdown ?? defaults.shutdown;
      if (policy === 'kill') await this.port.kill(child.ref, 'shutdown');
      else if (policy === 'wait') await this.port.stop(child.ref);
      else {
        let timer: unknown;
        const grace = new Promise<'late'>((resolve) => (timer = this.port.clock.setTimer(() => resolve('late'), policy.graceMs)));
        const outcome = await Promise.race([this.port.stop(child.ref), grace]);
        this.port.clock.clearTimer(timer);
        if (outcome === 'late') await this.port.kill(child.ref, 'killed after grace period');
      }
    }
    if (child.ref) this.port.release(child.id);
    child.status = 'stopped';
    this.forfeit(child); // after its last reports: they came before it stopped
  }
}
