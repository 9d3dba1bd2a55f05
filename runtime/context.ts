import type { ActorContext, SpawnOptions } from '../actors/context.ts';
import type { ActorDefinition, ActorRef, AskOptions, Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import type { Cell } from './cell.ts';
import type { Host } from './host.ts';
import { rootLogger, type Logger } from './logger.ts';
import { undraft } from './cloneable.ts';
import { validateMessageId } from './validate.ts';

/**
 * The context handed to handlers. A small object with prototype methods (not a bag of closures), created on an
 * actor's first message, so idle actors cost little heap.
 */
export class CellContext implements ActorContext {
  private logger: Logger | undefined;

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
  send(ref: ActorRef | Route, type: string, ...args: unknown[]): Promise<any> {
    const options = args[1] as { messageId?: string; timeoutMs?: number } | undefined;
    if (options?.messageId !== undefined) validateMessageId(options.messageId);
    return this.host.sendAcknowledged(ref, type, undraft(args[0]), this.cell.id, options?.messageId ?? '', options?.timeoutMs);
  }
  get log(): Logger {
    return (this.logger ??= rootLogger().child({ actor: this.cell.id, kind: this.cell.def.kind }));
  }
  tell(ref: ActorRef | Route, type: string, payload?: unknown): void {
    this.host.tell(ref, type, undraft(payload), this.cell.id);
  }
  ask(ref: ActorRef | Route, type: string, ...args: unknown[]): Promise<any> {
    return this.host.ask(ref, type, undraft(args[0]), this.cell.id, (args[1] as AskOptions | undefined)?.timeoutMs);
  }
  spawn<D extends ActorDefinition>(definition: D, options: SpawnOptions<D> = {}): Promise<ActorRef<D>> {
    return this.host.spawn(definition, options) as Promise<ActorRef<D>>;
  }
  publish(topic: string, type: string, payload?: unknown): void {
    this.host.publish(topic, type, undraft(payload), this.cell.id);
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
