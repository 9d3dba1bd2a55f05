/**
 * The shapes shared by the router's plumbing (router/*.ts) and its pure parts (router/strategies/, router/policy/).
 * A strategy sees candidates as plain data, as the sending thread knows them at the moment of the choice; it
 * never touches threads, mailboxes or timers.
 */

/** How healthy a candidate is, as the routing table on this thread knows it. */
export type Health = 'healthy' | 'restarting' | 'open' | 'half-open' | 'trial' | 'ejected' | 'draining';

/** One actor a route may choose. */
export interface Candidate {
  readonly id: string;
  readonly kind: string;
  /** Thread hosting it (0 main, 1..n workers). */
  readonly node: number;
  readonly capabilities: readonly string[];
  /** Messages waiting in its mailbox: exact for actors on the sending thread, last reported for others. */
  readonly queued: number;
  /** Asks and sends from this thread still awaiting its answer. */
  readonly inFlight: number;
  readonly health: Health;
  /** How many of the route's preferred capabilities it offers (0 when the route prefers none). */
  readonly preferred: number;
  /** Peak-EWMA latency observed from this thread (ms); the policy's pessimistic start value for a new one. */
  readonly latencyMs: number;
  /** Decaying success ratio observed from this thread, 0..1 (1 for a new one). */
  readonly successRate: number;
  /** Adaptive weight (router/policy/adaptive.ts), > 0; 1 when adaptive routing is off. */
  readonly weight: number;
}

/** What a strategy may know of the message being routed. */
export interface RouteMessage {
  readonly type: string;
  /** Sticky-routing key (a conversation id, say): consistent hashing maps it to the same candidate. */
  readonly key?: string;
}

/** Injected context of one choice: the clock and random source, and memory a strategy keeps between choices. */
export interface StrategyState {
  readonly now: number;
  readonly random: () => number;
  /** Per route, per thread: a strategy's own memory (a round-robin cursor, say). Starts as {}. */
  readonly memory: Record<string, unknown>;
}

/**
 * A routing strategy (the piscina balancer shape): choose one of `candidates` (never empty, all eligible: the
 * plumbing removed open circuits and ejected actors first). Returning anything that is not one of them fails the
 * message with InvalidStrategyChoiceError.
 */
export type Strategy = (candidates: readonly Candidate[], message: RouteMessage, state: StrategyState) => Candidate | undefined;
