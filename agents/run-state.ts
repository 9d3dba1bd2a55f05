/** The state of one run, as the journal keeps it (plain data: it is written to disk and crosses threads). */
import type { ConvMessage } from './policy/compaction.ts';
import type { FailureClass } from './policy/classify.ts';
import type { TokenCounts } from './prices.ts';
import type { HandoffInFlight } from './handoff.ts';

export interface ToolUse {
  id: string;
  name: string;
  input: unknown;
  /** The model's input did not parse as JSON (streamed): what it sent, and the parser's error. */
  invalidInput?: { json: string; error: string };
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export interface RunState {
  runId: string;
  task: string;
  status: 'running' | 'done' | 'failed';
  messages: ConvMessage[];
  /** Model responses received (turns taken). */
  turns: number;
  /** tool_use blocks of the last response not yet answered, and the results already in. */
  pending?: { turn: number; uses: ToolUse[]; results: Record<string, ToolResultBlock> };
  tokens: TokenCounts;
  failures: Partial<Record<FailureClass, number>>;
  compactions: number;
  /** Continuations after max_tokens / pause_turn. */
  continuations: number;
  finalText?: string;
  /** Text of responses cut by max_tokens, waiting for the rest. */
  partial?: string;
  model?: string;
  toolCalls: number;
  toolErrors: number;
  error?: { name: string; message: string; code?: string };
  stopReason?: string;
  startedAt: number;
  /** A handoff asked of another agent and not answered yet. */
  handoff?: HandoffInFlight;
  /** The run ended by handing its task to this agent (its run's answer is this run's text). */
  handedOffTo?: { id: string; kind: string; runId: string };
  /** This run continues a task handed off by that agent's run. */
  receivedFrom?: { id: string; kind: string; runId: string };
  /** Agent ids the task went through before this run (handoffs). */
  chain?: string[];
  /** Handoffs the model asked for that could not go ahead (the task stayed here). */
  handoffsRefused?: number;
}

/** What a save sends: the whole run, or its small fields and the messages appended since the last save. */
export type RunDelta = (Omit<RunState, 'messages'> & { messages: RunState['messages'] }) | (Omit<RunState, 'messages'> & { append: RunState['messages'] });

/** `first`: the first user message when it is not the task itself (a handoff's brief). */
export function newRun(runId: string, task: string, now: number, first: string = task): RunState {
  return {
    runId, task, status: 'running', messages: [{ role: 'user', content: first }], turns: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, failures: {}, compactions: 0, continuations: 0, toolCalls: 0, toolErrors: 0, startedAt: now,
  };
}

export function addUsage(t: TokenCounts, u: { input_tokens?: number | null; output_tokens?: number | null; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null }): TokenCounts {
  return {
    input: t.input + (u.input_tokens ?? 0),
    output: t.output + (u.output_tokens ?? 0),
    cacheRead: t.cacheRead + (u.cache_read_input_tokens ?? 0),
    cacheWrite: t.cacheWrite + (u.cache_creation_input_tokens ?? 0),
  };
}
