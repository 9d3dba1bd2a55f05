export interface ActorStats {
  id: string;
  kind: string;
  node: number;
  handled: number;
  mailboxDepth: number;
  /** Total milliseconds spent in this actor's handlers (measured per slice of messages, not per message). */
  handlingMs: number;
  /** 'running', or for supervised actors 'restarting', 'open', 'half-open' or 'trial'. */
  phase: string;
  incarnation: number;
}

export interface NodeStats {
  node: number;
  actors: ActorStats[];
  actorCount: number;
  /** Event-loop utilization of this thread since the previous stats call (0..1). */
  eventLoopUtilization: number;
  deadLetters: DeadLetterCounts;
  /** The most recent dead letters of this thread, oldest first. */
  recentDeadLetters: DeadLetter[];
  heapUsedBytes: number;
}

export type DeadLetterReason =
  | 'not-found' | 'stopped' | 'mailbox-full' | 'unknown-message-type' | 'crashed' | 'not-cloneable' | 'worker-lost'
  | 'circuit-open' | 'stash-full' | 'poison' | 'journal-failed';

export type DeadLetterCounts = Partial<Record<DeadLetterReason, number>>;

export interface DeadLetter {
  to: string;
  type: string;
  from: string;
  reason: DeadLetterReason;
  node: number;
  /** When it was recorded (ms since the epoch). */
  at: number;
  detail?: string;
}

export interface RuntimeStats {
  nodes: NodeStats[];
  deadLetters: DeadLetterCounts;
  /** The most recent dead letters of all threads (at most 100), oldest first. */
  recentDeadLetters: DeadLetter[];
}

/** One actor seen from its thread (Runtime.inspect). */
export interface ActorInspection {
  id: string;
  kind: string;
  node: number;
  /** The committed state (a copy when it crossed a thread; plain data). */
  state?: unknown;
  mailboxDepth: number;
  phase: string;
  incarnation: number;
  handled: number;
  handlingMs: number;
  /** A handler is running (an async one awaiting). */
  busy: boolean;
  supervised: boolean;
  persistent: boolean;
  /** The message types it has handlers for. */
  messageTypes: string[];
}
