import type { ActorDefinition, ActorRef, Address, AnyActorDefinition, AskArgs, InitArgs, MessageType, PayloadArgs, Reply, Route, SendArgs, SendReceipt } from './define.ts';
import type { MailboxSpec } from '../mailbox/mailbox.ts';
import type { Logger } from '../runtime/logger.ts';

export interface SpawnOptions<D extends ActorDefinition = ActorDefinition> {
  /** Caller-given id (unique among running actors); generated with nanoid when omitted. */
  id?: string;
  /** Passed to the definition's init. */
  args?: InitArgs<D>;
  /** Host the actor on this thread: 0 is the main thread, 1..n the workers. */
  pin?: number;
  /** Host the actor on the same thread as this one (chatty pairs stay off the cross-thread path). */
  near?: ActorRef;
  /** Overrides the definition's mailbox. */
  mailbox?: MailboxSpec;
  /** Capabilities this actor offers on top of its definition's (routing by capability: router/). */
  capabilities?: readonly string[];
  /** In a cluster (`Runtime.start({ cluster })`): start it on this node (its node id); the ref works from anywhere. */
  node?: string;
  /**
   * In a cluster, for a spawn that names no node: 'local' (this node) or 'least-loaded' (the live node hosting the
   * fewest actors). Default: the cluster's `placement` option ('local' unless set).
   */
  placement?: 'local' | 'least-loaded';
}

/** Messaging available both to handlers (through their context) and to code outside actors (the Runtime). */
export interface Messaging {
  /** To an actor by ref, or by capability through the router (a Route). */
  tell<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(to: Address<D>, type: K, ...payload: PayloadArgs<D, K>): void;
  ask<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(to: Address<D>, type: K, ...args: AskArgs<D, K>): Promise<Reply<D, K>>;
  /** Resolves once the target accepted the message: journaled on disk for a durable mailbox. */
  send<D extends ActorDefinition = AnyActorDefinition, K extends MessageType<D> = MessageType<D>>(to: Address<D>, type: K, ...args: SendArgs<D, K>): Promise<SendReceipt>;
  spawn<D extends ActorDefinition>(definition: D, options?: SpawnOptions<D>): Promise<ActorRef<D>>;
  /** Deliver to every actor subscribed to `topic` that has a handler for `type`. */
  publish(topic: string, type: string, payload?: unknown): void;
  /** Find a running actor by id. */
  lookup(id: string): Promise<ActorRef | undefined>;
}

/** What a handler gets as its third argument. */
export interface ActorContext extends Messaging {
  readonly self: ActorRef;
  readonly log: Logger;
  /**
   * Id of the message being handled (durable mailboxes; '' otherwise) and the incarnation of this actor: what a
   * handler needs to make its own side effects idempotent (an HTTP call, a Claude request are at-least-once).
   */
  readonly messageId: string;
  readonly incarnation: number;
  /**
   * W3C trace context of this handling ('00-<trace id>-<span id>-<flags>'): the trace of the message being handled
   * (a new one when it came with none), this handling's span id. Messages it sends carry it; pass it on as the
   * `traceparent` header of an HTTP call to keep the trace going outside Troupe.
   */
  readonly traceparent: string;
  /** Stop this actor (no argument) or another one. The current message is finished first. */
  stop(ref?: ActorRef): void;
  /** Get exactly one termination notice (to the definition's onTerminated) when `ref` stops. */
  watch(ref: ActorRef): void;
  unwatch(ref: ActorRef): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** The live actors offering a route's capabilities, with their load and health, least loaded first (router/). */
  find(route: Route): readonly MemberInfo[];
}

/** One actor offering capabilities, as the thread asking sees it (discovery: router/). */
export interface MemberInfo {
  readonly id: string;
  readonly kind: string;
  readonly node: number;
  readonly capabilities: readonly string[];
  /** 'healthy', 'restarting', 'open' (circuit), 'half-open', 'trial' or 'ejected' (outlier ejection). */
  readonly health: string;
  /** Messages waiting in its mailbox (exact on its own thread) plus asks from this thread awaiting it. */
  readonly load: number;
  readonly latencyMs: number;
  readonly successRate: number;
  readonly weight: number;
}
