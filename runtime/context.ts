import type { ActorContext, SpawnOptions } from '../actors/context.ts';
import type { ActorDefinition, ActorRef, AskOptions, Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import type { Cell } from './cell.ts';
import type { Host } from './host.ts';
import { rootLogger, type Logger } from './logger.ts';
import { undraft } from './cloneable.ts';
import { validateMessageId } from './validate.ts';
import { callerTraceparent, traceIdOf } from './tracing.ts';
import { HANDLER_TIME, type HandlerTime } from './extensions.ts';

/**
 * The context handed to handlers. A small object with prototype methods (not a bag of closures), created on an
 * actor's first message, so idle actors cost little heap.
 */
export class CellContext implements ActorContext {
  private logger: Logger | undefined;
  /** The logger of the last traced handling that logged, and its traceparent (a child per trace, made on use). */
  private tracedLogger: Logger | undefined;
  private loggedTrace = '';

  constructor(private readonly host: Host, private readonly cell: Cell) {}

  get self(): ActorRef {
    return this.cell.ref;
  }
  get messageId(): string {
    return this.cell.messageId;
  }
  get incarnation(): number {
    return this.cell.incarnation;
  }
  get traceparent(): string {
    return this.cell.outgoingTrace();
  }
  /** The runtime's clock and randomness on this thread (runtime/extensions.ts, handlerTime). */
  [HANDLER_TIME](): HandlerTime {
    return this.host.handlerTime;
  }
  send(ref: ActorRef | Route, type: string, ...args: unknown[]): Promise<any> {
    const options = args[1] as { messageId?: string; timeoutMs?: number; traceparent?: string } | undefined;
    if (options?.messageId !== undefined) validateMessageId(options.messageId);
    return this.host.sendAcknowledged(ref, type, undraft(args[0]), this.cell.id, options?.messageId ?? '', options?.timeoutMs, this.trace(options?.traceparent));
  }
  /**
   * With the message being handled: its type, the incarnation, and the trace: `trace_id` and `span_id` (the
   * handling's), as OpenTelemetry names them. A child logger per handling that logs (each has its own span id).
   */
  get log(): Logger {
    const base = (this.logger ??= rootLogger().child({ actor: this.cell.id, kind: this.cell.def.kind }));
    const trace = this.cell.outgoingTrace();
    if (trace === '') return base; // after its handling, outside any trace: no trace fields
    if (trace !== this.loggedTrace || this.tracedLogger === undefined) {
      this.loggedTrace = trace;
      this.tracedLogger = base.child({ messageType: this.cell.messageType, incarnation: this.cell.incarnation, trace_id: traceIdOf(trace), span_id: trace.slice(36, 52) });
    }
    return this.tracedLogger;
  }
  tell(ref: ActorRef | Route, type: string, payload?: unknown): void {
    this.host.tell(ref, type, undraft(payload), this.cell.id, this.cell.outgoingTrace());
  }
  ask(ref: ActorRef | Route, type: string, ...args: unknown[]): Promise<any> {
    const options = args[1] as AskOptions | undefined;
    return this.host.ask(ref, type, undraft(args[0]), this.cell.id, options?.timeoutMs, this.trace(options?.traceparent));
  }
  /** A traceparent given in the options wins over the handled message's (runtime/tracing.ts). */
  private trace(given: string | undefined): string {
    return given === undefined ? this.cell.outgoingTrace() : callerTraceparent(given);
  }
  spawn<D extends ActorDefinition>(definition: D, options: SpawnOptions<D> = {}): Promise<ActorRef<D>> {
    return this.host.spawn(definition, options) as Promise<ActorRef<D>>;
  }
  publish(topic: string, type: string, payload?: unknown): void {
    this.host.publish(topic, type, undraft(payload), this.cell.id, this.cell.outgoingTrace());
  }
  lookup(id: string): Promise<ActorRef | undefined> {
    return this.host.lookup(id);
  }
  find(route: Route): readonly MemberInfo[] {
    return this.host.find(route);
  }
  stop(ref?: ActorRef): void {
    this.host.stop(ref ?? this.cell.ref);
  }
  watch(ref: ActorRef): void {
    this.host.watch(this.cell.id, ref);
  }
  unwatch(ref: ActorRef): void {
    this.host.unwatch(this.cell.id, ref);
  }
  subscribe(topic: string): void {
    this.host.subscribe(this.cell, topic);
  }
  unsubscribe(topic: string): void {
    this.host.unsubscribe(this.cell, topic);
  }
}
