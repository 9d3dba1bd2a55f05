import type { Envelope } from '../mailbox/envelope.ts';
import { SYS_STOP, SYS_TERMINATED, type Cell, type Supervision } from './cell.ts';
import type { Host } from './host.ts';
import type { Control } from './protocol.ts';
import { ActorCrashedError, errorToData, type ErrorData } from './errors.ts';
import { rootLogger } from './logger.ts';

/** The supervision controls a thread hosting supervised actors acts on (from the supervisors on the main thread). */
type SupervisionControl = Extract<Control, { op: 'restart' | 'circuit-open' | 'half-open' | 'kill' | 'grant' | 'revoke' }>;

function isSupervisionControl(c: Control): c is SupervisionControl {
  return c.op === 'restart' || c.op === 'circuit-open' || c.op === 'half-open' || c.op === 'kill' || c.op === 'grant' || c.op === 'revoke';
}

/**
 * A supervised actor lost with its thread, created again on the thread that replaced it before any mail can reach
 * it (runtime/worker.ts), not running: its supervisor then decides as for a crash on a live thread, so mail sent
 * meanwhile is held (phase 'restarting', up to the stash) or fails fast (phase 'open', its circuit was open).
 */
export interface StandIn {
  id: string;
  module: string;
  kind: string;
  args: unknown;
  mailbox: unknown;
  supervision: Supervision;
  phase: 'restarting' | 'open';
  /** Phase 'open': when its trial will be admitted, in the runtime's clock. */
  retryAt: number;
}

/**
 * The child's side of supervision, on the thread hosting it: report crashes to the supervisor (on the main thread)
 * and carry out its decisions. A crash covered by restart credit (see supervisors/policy/credit.ts) is restarted
 * here at once and reported afterwards; any other crash waits, its mail held, for the supervisor's decision.
 */
export class CellSupervision {
  constructor(private readonly host: Host) {}

  /**
   * A handler threw. The message is reported as a dead letter. Without a supervisor the actor keeps running with
   * its state as it was (resume); with one, it restarts here under credit, or stops taking mail while its
   * supervisor decides.
   */
  crashed(cell: Cell, env: Envelope, err: unknown): void {
    this.host.deadLetters.record(cell.id, env.type, env.from, 'crashed', (err as Error)?.message ?? String(err));
    const sup = cell.supervision;
    // The handling's trace, as its ctx.log lines carry it; none for an untraced message that made none.
    const traceId = cell.crashTraceId(env) || undefined;
    if (sup === undefined) {
      rootLogger().warn({ actor: cell.id, kind: cell.def.kind, messageType: env.type, incarnation: cell.incarnation, node: this.host.node, trace_id: traceId, err }, 'actor crashed');
      return;
    }
    // A stop was queued behind this message: the stop wins. Held for a decision instead, the actor would keep the
    // stop waiting for good when its supervisor, stopping too, decides nothing ('ignore').
    const incarnation = cell.incarnation; // the one that crashed (the steps below move to the next)
    if (sup.stopping !== undefined) return this.stoppedByCrash(cell, env.type, errorToData(err), sup.stopping, incarnation, traceId);
    // Credit is used only by a running actor: a trial's outcome is the supervisor's (circuit) to judge.
    if (cell.phase === 'running' && sup.credit > 0) return this.restartHere(cell, env.type, errorToData(err), incarnation, traceId);
    this.toSupervisor(cell, env.type, errorToData(err), incarnation, traceId);
  }

  /** Same path as a 'restart' decision, without waiting for it: the supervisor counts it when the report arrives. */
  private restartHere(cell: Cell, messageType: string, error: ErrorData, incarnation: number, traceId?: string): void {
    cell.supervision!.credit--;
    cell.phase = 'restarting';
    cell.abandon(() => new ActorCrashedError(`${cell.def.kind} (${cell.id}) crashed`));
    let initError: ErrorData | undefined;
    try {
      cell.reinit('running');
    } catch (err) {
      initError = errorToData(err);
    }
    this.host.sendControl(0, { op: 'crashed-restarted', id: cell.id, kind: cell.def.kind, messageType, error, incarnation, traceId });
    // Posted now, not at the end of the turn: the new incarnation may take its next message in this same turn, and
    // if that one kills the thread a report still queued here would be lost with it (a restart never counted).
    this.host.flushOutgoing();
    // A restart that fails counts as a crash of its own (OTP), and that one goes to the supervisor.
    if (initError !== undefined) this.toSupervisor(cell, '$init', initError, cell.incarnation);
  }

  /** Stop taking mail (it is held, up to the stash) until the supervisor decides; the credit goes with the report. */
  private toSupervisor(cell: Cell, messageType: string, error: ErrorData, incarnation: number, traceId?: string): void {
    const trial = cell.phase === 'trial';
    cell.phase = 'restarting';
    // Forfeited: grants still on their way arrive while the actor is not running and are dropped (see 'grant').
    cell.supervision!.credit = 0;
    cell.abandon(() => new ActorCrashedError(`${cell.def.kind} (${cell.id}) crashed`));
    this.host.sendControl(0, { op: 'crashed', id: cell.id, kind: cell.def.kind, messageType, error, trial, incarnation, traceId });
  }

  /**
   * Crashed with a stop pending: reported (the supervisor records it, decision 'ignore'), then stopped with the
   * stop's reason, so whoever waits for the stop sees it complete and watchers hear of it once. The supervisor then
   * handles the stop as it handles any ('gone'): nothing while stopping, else per the child's restart type.
   */
  private stoppedByCrash(cell: Cell, messageType: string, error: ErrorData, reason: string, incarnation: number, traceId?: string): void {
    const trial = cell.phase === 'trial';
    cell.supervision!.credit = 0;
    this.host.sendControl(0, { op: 'crashed', id: cell.id, kind: cell.def.kind, messageType, error, trial, stopping: true, incarnation, traceId });
    this.host.terminate(cell, reason);
  }

  /** A new cell stands in for an actor lost with its thread (see StandIn); its state comes with its restart. */
  static standIn(cell: Cell, standIn: Pick<StandIn, 'phase' | 'retryAt'>): void {
    cell.phase = standIn.phase;
    cell.retryAt = standIn.retryAt;
    if (cell.supervision !== undefined) cell.supervision.credit = 0;
  }

  trialSucceeded(cell: Cell): void {
    if (cell.counters !== undefined) cell.counters.toClosed++;
    this.host.sendControl(0, { op: 'trial-ok', id: cell.id });
  }

  /** A supervisor's decision about one of its children hosted here. Returns false for other controls. */
  handle(c: Control): boolean {
    if (!isSupervisionControl(c)) return false;
    const host = this.host;
    const cell = host.actors.get(c.id);
    if (c.op === 'revoke') {
      // Answered even when the actor is gone: the supervisor waits for every revocation it sent.
      if (cell?.supervision !== undefined) cell.supervision.credit = 0;
      host.sendControl(0, { op: 'revoked', id: c.id, seq: c.seq });
      return true;
    }
    // A late control for an id since taken by an unsupervised actor finds no supervision record: no credit moves.
    if (cell === undefined) return true;
    const sup = cell.supervision ?? { credit: 0 };
    switch (c.op) {
      case 'grant':
        // Granted before the supervisor heard of a crash that forfeited the credit: stale, dropped.
        if (cell.phase === 'running') sup.credit += c.credit;
        return true;
      case 'kill':
        host.terminate(cell, c.reason);
        return true;
      case 'circuit-open':
        this.openCircuit(cell, c.retryAt);
        return true;
      case 'restart':
      case 'half-open':
        sup.credit = c.op === 'restart' ? c.credit : 0;
        // Counted as circuit transitions: a trial admitted, or an open circuit reset by an operator (Supervisor.resetCircuit).
        if (cell.counters !== undefined && (c.op === 'half-open' || cell.phase === 'open')) {
          if (c.op === 'half-open') cell.counters.toHalfOpen++;
          else cell.counters.toClosed++;
        }
        try {
          cell.reinit(c.op === 'restart' ? 'running' : 'half-open');
        } catch (err) {
          // A restart that fails counts as a crash of its own (OTP): the supervisor decides again.
          sup.credit = 0;
          const trial = c.op === 'half-open';
          cell.phase = 'restarting';
          host.sendControl(0, { op: 'crashed', id: cell.id, kind: cell.def.kind, messageType: '$init', error: errorToData(err), trial, incarnation: cell.incarnation });
        }
        return true;
    }
  }

  /** `retryAt`: when the trial will be admitted, in the runtime's clock (see Host.circuitOpen). */
  private openCircuit(cell: Cell, retryAt: number): void {
    const host = this.host;
    cell.abandon(() => new ActorCrashedError(`${cell.def.kind} (${cell.id}) crashed`));
    cell.phase = 'open';
    if (cell.counters !== undefined) cell.counters.toOpen++;
    if (cell.supervision !== undefined) cell.supervision.credit = 0;
    cell.retryAt = retryAt;
    const err = host.circuitOpen(cell);
    let stop: Envelope | undefined;
    const journaled: Envelope[] = [];
    for (const env of cell.mailbox.drain()) {
      if (env.type === SYS_STOP) stop ??= env;
      // Journaled (durable mailbox) and acknowledged: kept, in order, for when the actor runs again; an ask among
      // them waits for its answer (or its timeout) rather than failing for a message that will still be handled.
      else if (env.seq > 0) journaled.push(env);
      else {
        if (env.ask !== 0) host.replyError(env, err);
        if (env.type !== SYS_TERMINATED) host.deadLetters.record(cell.id, env.type, env.from, 'circuit-open');
      }
    }
    for (const env of journaled) cell.mailbox.offer(env);
    if (stop !== undefined) host.terminate(cell, stop.payload as string);
  }
}
