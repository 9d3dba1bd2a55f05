import { commitDraft, openDraft } from './draft.ts';
import { undraft } from './cloneable.ts';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import type { Mailbox } from '../mailbox/mailbox.ts';
import type { Envelope } from '../mailbox/envelope.ts';
import type { Runnable } from './scheduler.ts';
import type { Host } from './host.ts';
import { ActorCrashedError, UnknownMessageTypeError } from './errors.ts';

const SYS_STOP = '$stop';
const SYS_TERMINATED = '$terminated';
export { SYS_STOP, SYS_TERMINATED };

/**
 * One running actor: its state, its mailbox and the loop that feeds messages to its handlers, one at a time.
 * Each message gets its own immer draft, so a handler that throws leaves the state exactly as it was before it.
 * An async handler keeps the actor busy until it settles; later messages wait in the mailbox.
 */
export class Cell implements Runnable {
  queued = false;
  busy = false;
  stopped = false;
  handled = 0;
  handlingMs = 0;
  /** Nodes that watch this actor (each gets one termination notice, fanned out there). */
  watchers: Set<number> | undefined;
  topics: Set<string> | undefined;
  readonly ref: ActorRef;
  private ctxCache: ActorContext | undefined;

  constructor(
    private readonly host: Host,
    readonly id: string,
    readonly def: ActorDefinition,
    public state: unknown,
    readonly mailbox: Mailbox,
  ) {
    this.ref = Object.freeze({ id, kind: def.kind, node: host.node });
  }

  get ctx(): ActorContext {
    return (this.ctxCache ??= this.host.contextFor(this));
  }

  runnable(): boolean {
    return !this.busy && !this.stopped && this.mailbox.size > 0;
  }

  run(budget: number): number {
    const start = performance.now();
    let n = 0;
    while (n < budget && !this.busy && !this.stopped) {
      const env = this.mailbox.take();
      if (env === undefined) break;
      n++;
      this.handle(env);
    }
    this.handled += n;
    this.handlingMs += performance.now() - start;
    return n;
  }

  private handle(env: Envelope): void {
    if (env.type === SYS_STOP) return this.host.terminate(this, env.payload as string);
    const isNotice = env.type === SYS_TERMINATED;
    const handler = isNotice ? this.def.onTerminated : this.def.handlers[env.type];
    if (handler === undefined) {
      if (isNotice) return;
      const err = new UnknownMessageTypeError(`${this.def.kind} (${this.id}) has no handler for '${env.type}'`);
      if (env.ask !== 0) this.host.replyError(env, err);
      else this.host.deadLetters.record(this.id, env.type, env.from, 'unknown-message-type');
      return;
    }
    const base = this.state;
    const draft = openDraft(base);
    let result: unknown;
    try {
      result = handler(draft as never, env.payload as never, this.ctx);
    } catch (err) {
      return this.crashed(env, err);
    }
    if (typeof (result as PromiseLike<unknown>)?.then === 'function') {
      this.busy = true;
      (result as Promise<unknown>).then(
        (value) => this.settle(env, draft, value),
        (err) => {
          this.busy = false;
          this.crashed(env, err);
          this.afterAsync();
        },
      );
      return;
    }
    this.commit(env, draft, result);
  }

  private settle(env: Envelope, draft: unknown, value: unknown): void {
    this.busy = false;
    if (!this.stopped) this.commit(env, draft, value);
    this.afterAsync();
  }

  private afterAsync(): void {
    if (this.runnable()) this.host.scheduler.schedule(this);
  }

  private commit(env: Envelope, draft: unknown, result: unknown): void {
    if (draft !== this.state) {
      // A reply that is (part of) the draft must be materialised before the draft is finalised and revoked.
      const replyIsState = result === draft;
      if (!replyIsState) result = undraft(result);
      this.state = commitDraft(this.state, draft);
      if (replyIsState) result = this.state;
    }
    if (env.ask !== 0) this.host.reply(env, result);
  }

  /** The handler threw or rejected: the message is lost to this actor, the state is unchanged, the asker is told. */
  private crashed(env: Envelope, err: unknown): void {
    const crash = new ActorCrashedError(`${this.def.kind} (${this.id}) crashed handling '${env.type}': ${(err as Error)?.message ?? err}`, { cause: err });
    if (env.ask !== 0) this.host.replyError(env, crash);
    this.host.crashed(this, env, err);
  }
}
