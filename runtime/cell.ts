import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import type { Mailbox } from '../mailbox/mailbox.ts';
import type { MessageSink } from '../mailbox/ring.ts';
import { envelope, type Envelope } from '../mailbox/envelope.ts';
import type { Runnable } from './scheduler.ts';
import type { Host } from './host.ts';
import { ActorCrashedError, HandlerTimeoutError, UnknownMessageTypeError } from './errors.ts';
import { commitDraft, isNested, openDraft, type Shape, type StateSlot } from './draft.ts';
import { claimWork, deepFreeze, releaseWork, WorkCopy, type WorkHolder } from './workcopy.ts';

const AsyncFunction = (async () => undefined).constructor;
/** Handlers seen returning a promise: a run of messages is committed before them (their draft outlives the run). */
const asyncHandlers = new WeakSet<object>();
let anyAsyncHandler = false;
function mayBeAsync(handler: object): boolean {
  return handler.constructor === AsyncFunction || (anyAsyncHandler && asyncHandlers.has(handler));
}
function sawAsync(handler: object): void {
  asyncHandlers.add(handler);
  anyAsyncHandler = true;
}
import { undraft } from './cloneable.ts';
import type { ActorPersistence } from './persist.ts';
import type { KindCounters } from './thread-metrics.ts';
import { childTraceparent, recordingTracer, traceIdOf, type MessageSpan, type SpanOutcome } from './tracing.ts';

/**
 * `traceOut` once a handling ended: what the actor sends or logs from then on (a timer, a late callback) carries no
 * message's trace, but the context of the caller's code as for a send from outside (MessageTracer.outside), or none.
 */
const HANDLING_DONE = '-';

const SYS_STOP = '$stop';
const SYS_TERMINATED = '$terminated';
/** The first message of a restored journal, counted before it is handed over (runtime/replay.ts). */
const SYS_REPLAY = '$replay';
export { SYS_STOP, SYS_TERMINATED, SYS_REPLAY };

/**
 * Where a supervised actor is in its life. Unsupervised actors are always 'running'.
 * - restarting: crashed, waiting for its supervisor; mail is held (up to the stash limit) for the next incarnation.
 * - open: circuit open, not running; mail fails fast.
 * - half-open: started again; the next message to arrive is the one trial.
 * - trial: the trial is queued or being handled; other mail fails fast until it succeeds.
 */
export type Phase = 'running' | 'restarting' | 'open' | 'half-open' | 'trial';

/** What a supervisor set on a child at spawn. */
export interface Supervision {
  /** Messages held while restarting; more become dead letters ('stash-full'). */
  stash: number;
  /** Async handlers running longer crash the actor (0: no limit). */
  handlerTimeoutMs: number;
  /**
   * Restart credit: crashes this thread may restart in place at once, without waiting for the supervisor, which
   * counts them when told (supervisors/policy/credit.ts). Granted with the spawn, a restart or a 'grant' control;
   * used only while running; zeroed on a crash that goes to the supervisor and when the supervisor revokes it.
   */
  credit: number;
  /**
   * The reason of a stop queued behind the message being handled (set on this thread when the stop arrives): a
   * crash meanwhile ends the actor with that reason instead of restarting it (runtime/supervision.ts).
   */
  stopping?: string;
}

/**
 * One running actor: its state, its mailbox and the loop that feeds messages to its handlers, one at a time.
 * Each message gets its own working copy of the state, so a handler that throws leaves the state as it was.
 * An async handler keeps the actor busy until it settles; later messages wait in the mailbox.
 */
export class Cell implements Runnable, MessageSink, StateSlot, WorkHolder {
  queued = false;
  busy = false;
  stopped = false;
  phase: Phase = 'running';
  /** Bumped on every crash and restart: a late result of an abandoned async handler is recognised and dropped. */
  incarnation = 0;
  /** The message an async handler is working on (its ask is failed if the handler is abandoned). */
  current: Envelope | undefined;
  handled = 0;
  handlingMs = 0;
  retryAt = 0;
  /** Nodes that watch this actor (each gets one termination notice, fanned out there). */
  watchers: Set<number> | undefined;
  topics: Set<string> | undefined;
  readonly ref: ActorRef;
  /** Set for persistent actors (definition.persistence). */
  persistence: ActorPersistence | undefined;
  /** Id of the message being handled (durable mailboxes), for handlers that make their own effects idempotent. */
  messageId = '';
  /**
   * Recovery of a durable mailbox (runtime/replay.ts): no mail is taken until the replayed head's delivery count,
   * then its outcome, are on disk; otherwise a message after it could kill the thread and the head take the blame.
   */
  replaying = false;
  /** The state's shape when it is a flat record committed by commitDraft (runtime/draft.ts); set with `state`. */
  flat: Shape | undefined = undefined;
  /**
   * The working copy of a nested state over the run of messages being handled (runtime/workcopy.ts), committed
   * before another actor's handler runs on this thread and at the end of the scheduler's turn (claimWork,
   * commitOpenWork), before any message that is not a plain tell, before a crash is reported, and after every
   * message of a persistent actor (its snapshots see each committed state). While it is open, `state` is the state
   * before the run: nothing but this actor's handlers runs meanwhile. An async handler keeps the actor busy, and the
   * copy open for its message alone (a run is committed before a handler that may be async), until it settles.
   */
  private work: WorkCopy | undefined = undefined;
  /** `state` is frozen through (committed by a working copy): a state from init or a snapshot is frozen once. */
  private sealed = false;
  /**
   * The traceparent of the message being handled ('' for none), and the handling's own, made when first asked for
   * ('' until then; HANDLING_DONE once the handling ended).
   */
  private trace = '';
  private traceOut = HANDLING_DONE;
  /** The handling's span, while an installed tracer records (runtime/tracing.ts). */
  private span: MessageSpan | undefined = undefined;
  /** This thread's counters for the actor's kind (runtime/thread-metrics.ts); undefined when counting is off. */
  readonly counters: KindCounters | undefined;
  /** Messages handled, counted by type in runs of one type (a field compare per message, a map update per run). */
  private runType = '';
  private runCount = 0;
  private ctxCache: ActorContext | undefined;
  private timer: unknown;
  /** Time each message on its own (runTimed): KindCounters.slice found the last two slices slow. */
  private timeEach = false;
  private slowSlice = false;
  /** When the async handler now running started (performance.now()), for its observation when it settles; -1: none. */
  private awaitedSince = -1;

  constructor(
    private readonly host: Host,
    readonly id: string,
    readonly def: ActorDefinition,
    readonly args: unknown,
    public state: unknown,
    readonly mailbox: Mailbox,
    readonly supervision: Supervision | undefined,
  ) {
    this.ref = Object.freeze({ id, kind: def.kind, node: host.node });
    this.counters = host.counters.forKind(def.kind, Object.keys(def.handlers));
  }

  get ctx(): ActorContext {
    return (this.ctxCache ??= this.host.contextFor(this));
  }

  private takesMail(): boolean {
    return !this.busy && !this.stopped && !this.replaying && this.phase !== 'restarting' && this.phase !== 'open';
  }

  runnable(): boolean {
    return this.takesMail() && this.mailbox.size > 0;
  }

  run(budget: number): number {
    if (this.timeEach) return this.runTimed(budget);
    const start = performance.now();
    let n = 0;
    const mailbox = this.mailbox;
    while (n < budget && this.takesMail()) {
      // A run of plain tells in one loop (as long as this actor takes them at once); anything else one at a time.
      const tells = mailbox.takeTellsTo(this, budget - n);
      if (tells > 0) n += tells;
      else if (mailbox.takeTo(this)) n++;
      else break;
    }
    const ms = performance.now() - start;
    this.handled += n;
    this.handlingMs += ms;
    const counters = this.counters;
    if (counters !== undefined && n > 0) {
      // The slice's messages at their mean (thread-metrics.ts); an async one last is observed when it settles.
      if (this.busy) this.awaitedSince = start + ms - ms / n;
      // Two slow slices in a row: one alone is as likely a GC pause or the thread preempted as a slow handler.
      const slow = counters.slice(n, ms, this.busy);
      this.timeEach = slow && this.slowSlice;
      this.slowSlice = slow;
    }
    return n;
  }

  /**
   * run() for an actor whose messages take long enough that a clock read per message costs next to nothing
   * (KindCounters.slice decides): each message observed on its own; an async one from its start to its settlement.
   */
  private runTimed(budget: number): number {
    const counters = this.counters!;
    const mailbox = this.mailbox;
    const start = performance.now();
    let at = start;
    let n = 0;
    while (n < budget && this.takesMail()) {
      if (mailbox.takeTellsTo(this, 1) === 0 && !mailbox.takeTo(this)) break;
      n++;
      if (this.busy) {
        this.awaitedSince = at; // observed when it settles (settled())
        break;
      }
      const now = performance.now();
      counters.handling.observe(now - at);
      at = now;
    }
    const ms = (this.busy ? performance.now() : at) - start;
    this.handled += n;
    this.handlingMs += ms;
    if (n > 0) this.timeEach = counters.timed(n, ms);
    return n;
  }

  /**
   * A plain tell (no ask, no message id, not journaled) from the mailbox, handled without an envelope object (one
   * per message cost a quarter of the same-thread tell figure). This is handle()'s path for the common case only: a
   * running actor with a handler for the type, persistent or not (a durable mailbox's messages are journaled
   * envelopes: they never come this way); anything else goes to handle() with an envelope. Returns whether the
   * actor takes its next message at once (a run of tells goes on: MessageRing.shiftTellsTo).
   */
  handleTell(type: string, payload: unknown, from: string, trace: string): boolean {
    const handler = this.def.handlers[type];
    // (System messages never come this way: their '$' types have no handler and are refused where sent.)
    // A recording tracer takes handle()'s path: a span per message costs far more than the envelope.
    if (handler === undefined || this.phase !== 'running' || recordingTracer !== undefined) {
      this.handle(envelope(type, payload, from, 0, 0, '', trace));
      return this.takesMail();
    }
    this.messageId = '';
    this.trace = trace;
    this.traceOut = '';
    if (type === this.runType) this.runCount++;
    else this.countType(type);
    if (this.work !== undefined || isNested(this)) return this.tellToWork(handler, type, payload, from);
    claimWork(this);
    const draft = openDraft(this);
    let result: unknown;
    try {
      result = handler(draft as never, payload as never, this.ctx);
    } catch (err) {
      this.crashed(envelope(type, payload, from, 0, 0, '', this.trace), err);
      return this.takesMail();
    }
    if (typeof (result as PromiseLike<unknown>)?.then === 'function') {
      this.awaitResult(envelope(type, payload, from, 0, 0, '', this.trace), draft, result as Promise<unknown>);
      return false; // busy until it settles
    }
    // A tell has no reply: what the handler returned is dropped, not materialised (apply()).
    if (draft !== this.state) {
      try {
        commitDraft(this, draft);
      } catch (err) {
        // What the handler left cannot be committed (a throwing getter on the draft...): a crash like any other.
        this.crashed(envelope(type, payload, from, 0, 0, '', this.trace), err);
        return this.takesMail();
      }
    }
    this.persistence?.applied(this.state); // a persistent actor: its snapshot cadence counts the message
    this.succeeded();
    return this.takesMail();
  }

  /** handleTell() for a nested state: the message is handled in the run's working copy, with its own savepoint. */
  private tellToWork(handler: (s: never, p: never, ctx: never) => unknown, type: string, payload: unknown, from: string): boolean {
    const work = this.openWork(handler);
    let result: unknown;
    try {
      result = handler(work.draft as never, payload as never, this.ctx as never);
    } catch (err) {
      this.crashed(envelope(type, payload, from, 0, 0, '', this.trace), err); // rolls the message back, commits the run before it
      return this.takesMail();
    }
    if (typeof (result as PromiseLike<unknown>)?.then === 'function') {
      sawAsync(handler);
      this.awaitResult(envelope(type, payload, from, 0, 0, '', this.trace), work.draft, result as Promise<unknown>);
      return false; // busy until it settles; the working copy stays open for it
    }
    try {
      work.end();
    } catch (err) {
      this.crashed(envelope(type, payload, from, 0, 0, '', this.trace), err);
      return this.takesMail();
    }
    if (this.persistence !== undefined) {
      this.closeWork();
      this.persistence.applied(this.state);
    }
    this.succeeded();
    return this.takesMail();
  }

  /** The open working copy, or a new one over the state, at a new message's savepoint. */
  private openWork(handler: object): WorkCopy {
    claimWork(this);
    let work = this.work;
    if (work !== undefined && mayBeAsync(handler)) {
      this.closeWork();
      work = undefined;
    }
    if (work === undefined) {
      if (!this.sealed) deepFreeze(this.state);
      work = this.work = new WorkCopy(this.state as object);
    }
    work.begin();
    return work;
  }

  /** The run's messages become the state (the working copy's drafts refuse writes from now on). */
  private closeWork(): void {
    const work = this.work!;
    this.work = undefined;
    releaseWork(this);
    this.state = work.commit();
    this.flat = undefined;
    this.sealed = true;
  }

  /** WorkHolder: another actor is about to run a handler, or the turn ends. An async handler's copy stays open. */
  yieldWork(): void {
    if (this.work !== undefined && !this.busy) this.closeWork();
  }

  /** The message in progress is dropped (its writes undone); the run before it is committed. */
  private dropWorkMessage(): void {
    if (this.work === undefined) return;
    this.work.rollback();
    this.closeWork();
  }

  /**
   * Any other message from the mailbox, whole: asks, sends, journaled and system messages. (handleTell() is the
   * same steps for a plain tell to a running actor: a change here may need the same change there.)
   */
  handle(env: Envelope): void {
    if (env.type === this.runType) this.runCount++;
    else this.countType(env.type);
    claimWork(this);
    if (this.work !== undefined && !this.busy) this.closeWork(); // the run of tells before this message stands
    if (env.type === SYS_STOP) return this.host.terminate(this, env.payload as string);
    const isNotice = env.type === SYS_TERMINATED;
    // Half-open with mail already queued (journaled messages kept while the circuit was open): the first is the trial.
    if (this.phase === 'half-open' && !isNotice) this.phase = 'trial';
    if (env.type === SYS_REPLAY) return this.host.replay(this, env);
    const handler = isNotice ? this.def.onTerminated : this.def.handlers[env.type];
    if (handler === undefined) {
      if (isNotice) return this.succeeded();
      const err = new UnknownMessageTypeError(`${this.def.kind} (${this.id}) has no handler for '${env.type}'`);
      if (env.ask !== 0) this.host.replyError(env, err);
      else this.host.deadLetters.record(this.id, env.type, env.from, 'unknown-message-type');
      // Journaled: consumed (not replayed at the next start), the state unchanged.
      if (this.persistence !== undefined && env.seq > 0) this.persistence.handled(env.seq, this.persistence.lastState, false);
      return this.succeeded();
    }
    this.messageId = env.id;
    this.trace = env.trace;
    this.traceOut = '';
    if (recordingTracer !== undefined) this.startSpan(env.type);
    const draft = this.work !== undefined || isNested(this) ? this.openWork(handler).draft : openDraft(this);
    let result: unknown;
    try {
      // Inside its span's context while a tracer records (what the handler starts itself is that span's child).
      const span = this.span;
      result = span === undefined ? handler(draft as never, env.payload as never, this.ctx) : span.run(handler as (a: unknown, b: unknown, c: unknown) => unknown, draft, env.payload, this.ctx);
    } catch (err) {
      return this.crashed(env, err);
    }
    if (typeof (result as PromiseLike<unknown>)?.then !== 'function') return this.commit(env, draft, result);
    sawAsync(handler);
    this.awaitResult(env, draft, result as Promise<unknown>);
  }

  /** A message of another type than the run before it: the run goes to the kind's counters. */
  private countType(type: string): void {
    this.flushTypeCount();
    this.runType = type;
    this.runCount = 1;
  }

  /** The run of one type in progress, into the kind's counters (before a scrape reads them, and at the end). */
  flushTypeCount(): void {
    if (this.runCount > 0) this.counters?.handledType(this.runType, this.runCount);
    this.runCount = 0;
  }

  private startSpan(type: string): void {
    const span = recordingTracer!.start(this.trace, this.def.kind, this.id, type);
    if (span === undefined) return;
    this.span = span;
    this.traceOut = span.traceparent;
  }

  private endSpan(outcome: SpanOutcome, error?: unknown): void {
    const span = this.span;
    if (span === undefined) return;
    this.span = undefined;
    span.end(outcome, error);
  }

  /** The type of the message being handled (or last handled): the run being counted has its type. */
  get messageType(): string {
    return this.runType;
  }

  /** What the handler's outgoing messages carry: the trace of the message it handles, the handling's span id. */
  outgoingTrace(): string {
    const out = this.traceOut;
    if (out === '') return (this.traceOut = childTraceparent(this.trace));
    return out !== HANDLING_DONE ? out : recordingTracer === undefined ? '' : recordingTracer.outside();
  }

  /**
   * The trace id of the handling of `env` (for its crash report): the handling's own once it made one (its log lines
   * and messages carry it), else its message's; '' for an untraced message that sent and logged nothing (none invented).
   */
  crashTraceId(env: Envelope): string {
    const out = this.traceOut;
    return traceIdOf(out !== '' && out !== HANDLING_DONE ? out : env.trace);
  }

  // Apart from handle() (and replyWhenDurable apart from commit()) because a closure capturing a parameter makes
  // V8 allocate a context on every call of the function that holds it: per message, on the synchronous path too.
  private awaitResult(env: Envelope, draft: unknown, result: Promise<unknown>): void {
    this.busy = true;
    this.current = env;
    const incarnation = this.incarnation;
    const timeoutMs = this.supervision?.handlerTimeoutMs ?? 0;
    if (timeoutMs > 0) {
      this.timer = this.host.clock.setTimer(() => {
        if (this.incarnation !== incarnation || !this.busy) return;
        this.settled();
        this.crashed(env, new HandlerTimeoutError(`handler '${env.type}' ran past ${timeoutMs} ms`));
      }, timeoutMs);
    }
    result.then(
      (value) => {
        if (this.incarnation !== incarnation || this.stopped) return;
        this.settled();
        this.commit(env, draft, value);
        if (this.runnable()) this.host.scheduler.schedule(this);
      },
      (err: unknown) => {
        if (this.incarnation !== incarnation || this.stopped) return;
        this.settled();
        this.crashed(env, err);
        if (this.runnable()) this.host.scheduler.schedule(this);
      },
    );
  }

  private settled(): void {
    this.busy = false;
    this.current = undefined;
    if (this.awaitedSince >= 0) {
      // Once per message: what it awaited included (a model call...), not only its synchronous part.
      this.counters?.handling.observe(performance.now() - this.awaitedSince);
      this.awaitedSince = -1;
    }
    if (this.timer !== undefined) this.host.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The working copy becomes the state. Returns the reply: `result`, materialised if it is or holds the draft. */
  private apply(draft: unknown, result: unknown): unknown {
    const work = this.work;
    if (work !== undefined && draft === work.draft) {
      // Committed first: a reply holding drafts reads their committed values (cloneable.undraft).
      work.end();
      this.closeWork();
      return result === draft ? this.state : undraft(result);
    }
    if (draft === this.state) return result;
    // A reply that is (part of) the draft must be materialised before the draft is finalised and revoked.
    const replyIsState = result === draft;
    if (!replyIsState) result = undraft(result);
    commitDraft(this, draft);
    return replyIsState ? this.state : result;
  }

  private commit(env: Envelope, draft: unknown, result: unknown): void {
    try {
      result = this.apply(draft, result);
    } catch (err) {
      // The draft or the reply cannot be committed (a throwing getter...): a crash, the state as it was.
      return this.crashed(env, err);
    }
    const p = this.persistence;
    if (p !== undefined && env.seq > 0) {
      // Durable mailbox: the ask is answered once the new state and the message's removal are on disk.
      const durable = p.handled(env.seq, this.state, env.ask !== 0);
      if (durable !== undefined) this.replyWhenDurable(durable, env, result);
    } else {
      if (p !== undefined && env.type !== SYS_TERMINATED) p.applied(this.state);
      if (env.ask !== 0) this.host.reply(env, result);
    }
    if (this.span !== undefined) this.endSpan('ok');
    this.succeeded();
  }

  private replyWhenDurable(durable: Promise<unknown>, env: Envelope, result: unknown): void {
    durable.then(() => this.host.reply(env, result), (err: unknown) => this.host.replyError(env, err as Error));
  }

  /** A handled message ends a trial: the circuit closes. (Also a poison message set aside: runtime/replay.ts.) */
  succeeded(): void {
    this.traceOut = HANDLING_DONE;
    if (this.phase !== 'trial') return;
    this.phase = 'running';
    this.host.trialSucceeded(this);
  }

  /** The handler threw or rejected: the message is lost to this actor, the state is unchanged, the asker is told. */
  private crashed(env: Envelope, err: unknown): void {
    if (this.span !== undefined) this.endSpan('crashed', err);
    this.dropWorkMessage();
    // A durable message that crashed its handler is consumed with the state unchanged: not redelivered.
    if (this.persistence !== undefined && env.seq > 0) this.persistence.handled(env.seq, this.persistence.lastState, false);
    if (env.ask !== 0) {
      this.host.replyError(env, new ActorCrashedError(`${this.def.kind} (${this.id}) crashed handling '${env.type}': ${(err as Error)?.message ?? err}`, { cause: err }));
    }
    this.host.crashed(this, env, err);
    this.traceOut = HANDLING_DONE;
  }

  /**
   * Drop whatever an async handler is still doing (its late result is ignored, its asker told) and move to a
   * new incarnation. Used on crash, restart by the supervisor, circuit opening and kill.
   */
  abandon(reason: () => Error): void {
    this.incarnation++;
    this.dropWorkMessage(); // an async handler's message abandoned: the run before it stands
    const env = this.current;
    if (this.span !== undefined) this.endSpan('abandoned');
    this.traceOut = HANDLING_DONE;
    if (this.busy) this.settled();
    // Errors are built only when someone waits for them: a stack trace costs tens of microseconds.
    if (env !== undefined && env.ask !== 0) this.host.replyError(env, reason());
  }

  /** Start a new incarnation from the last snapshot, or the initial state. Throws what init throws. */
  reinit(phase: Phase): void {
    this.abandon(() => new ActorCrashedError(`${this.def.kind} (${this.id}) was restarted by its supervisor`));
    if (this.counters !== undefined) this.counters.restarts++;
    this.state = this.persistence !== undefined ? this.persistence.lastState : this.def.init(this.args);
    this.flat = undefined;
    this.sealed = false;
    this.phase = phase;
    if (this.runnable()) this.host.scheduler.schedule(this);
  }
}
