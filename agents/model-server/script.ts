/**
 * The scripted model: a list of rules, tried in order for each request; the first that returns a reply answers.
 * Rules are plain functions of a view of the request, so a test can say "when tool X is offered and there is no
 * tool_result for it yet, call X with Y", "answer with text T", "fail the 3rd request with 429, retry-after 2".
 * Everything is deterministic: the same request gives the same reply (tool_use ids derive from the prompt).
 */
import type { Block as ContentBlockParam, ConvMessage as MessageParam } from '../policy/compaction.ts';
export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export type ErrorKind =
  | 'rate_limit' // 429 rate_limit_error (retry-after from retryAfterS)
  | 'overloaded' // 529 overloaded_error, or an `error` event inside a streamed 200 when inStream
  | 'api_error' // 500 (or `status`) api_error
  | 'invalid_request' // 400
  | 'authentication' // 401
  | 'permission' // 403
  | 'billing' // 402
  | 'not_found'; // 404

export interface ToolUseSpec {
  name: string;
  input?: unknown;
  /**
   * A malformed call, as a model can make one: streamed, these characters are the tool input's JSON as it is (valid or
   * not); whole, the input is this string instead of an object. Instead of `input`.
   */
  rawInput?: string;
}

export type ScriptedReply =
  | { text: string; stopReason?: StopReason; delayMs?: number }
  | { toolUse: ToolUseSpec | ToolUseSpec[]; text?: string; delayMs?: number }
  | { error: ErrorKind; status?: number; retryAfterS?: number; message?: string; inStream?: boolean; delayMs?: number }
  /** Accept the request, then drop the connection (a network failure as the client sees it). */
  | { hangUp: true };

/** A request's content blocks and messages: the shapes the agents' conversations use (agents/policy/compaction.ts). */
export type { Block as ContentBlockParam, ConvMessage as MessageParam } from '../policy/compaction.ts';

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: unknown;
  tools?: Array<{ name: string; description?: string; input_schema?: unknown }>;
  stream?: boolean;
  metadata?: unknown;
  [k: string]: unknown;
}

/** What a rule sees: the request and a few questions about it that scripts ask all the time. */
export class RequestView {
  constructor(
    readonly request: MessagesRequest,
    /** 1-based count of /v1/messages requests this server received, this one included. */
    readonly index: number,
    readonly inputTokens: number,
    readonly apiKey: string | undefined,
  ) {}

  get offeredTools(): string[] {
    return (this.request.tools ?? []).map((t) => t.name);
  }

  offers(tool: string): boolean {
    return this.offeredTools.includes(tool);
  }

  /** The text of the first user message (the task, by convention). */
  get task(): string {
    const first = this.request.messages[0];
    return first ? textOf(first.content) : '';
  }

  /** The text of the last user message. */
  get lastUserText(): string {
    const last = [...this.request.messages].reverse().find((m) => m.role === 'user');
    return last ? textOf(last.content) : '';
  }

  /** tool_result blocks anywhere in the conversation, with the name of the tool they answer. */
  toolResults(): Array<{ name: string; content: string; isError: boolean }> {
    const names = new Map<string, string>();
    const out: Array<{ name: string; content: string; isError: boolean }> = [];
    for (const m of this.request.messages) {
      if (typeof m.content === 'string') continue;
      for (const b of m.content) {
        if (b.type === 'tool_use' && b.id && b.name) names.set(b.id, b.name);
        if (b.type === 'tool_result') {
          out.push({ name: names.get(b.tool_use_id ?? '') ?? '?', content: textOf(b.content as never), isError: b.is_error === true });
        }
      }
    }
    return out;
  }

  hasToolResult(tool: string): boolean {
    return this.toolResults().some((r) => r.name === tool);
  }

  /** Number of assistant turns already in the conversation. */
  get turn(): number {
    return this.request.messages.filter((m) => m.role === 'assistant').length;
  }
}

export type Rule = (view: RequestView) => ScriptedReply | undefined;

function textOf(content: string | ContentBlockParam[] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((b) => (b.type === 'text' ? b.text ?? '' : b.type === 'tool_result' ? textOf(b.content as never) : '')).join('');
}

/** Rule builders for the common cases. */
export const rules = {
  /** When `tool` is offered and no tool_result for it is in the conversation yet, call it with `input`. */
  callTool(tool: string, input: unknown | ((v: RequestView) => unknown)): Rule {
    return (v) => (v.offers(tool) && !v.hasToolResult(tool) ? { toolUse: { name: tool, input: typeof input === 'function' ? (input as (v: RequestView) => unknown)(v) : input } } : undefined);
  },
  /** Call several tools in one response (parallel tool calls), once none of them has a result yet. */
  callTools(calls: ToolUseSpec[]): Rule {
    return (v) => (calls.every((c) => v.offers(c.name) && !v.hasToolResult(c.name)) ? { toolUse: calls } : undefined);
  },
  /** Answer with text (or with a function of the request), ending the turn. */
  answer(text: string | ((v: RequestView) => string)): Rule {
    return (v) => ({ text: typeof text === 'function' ? text(v) : text });
  },
  /** Reply `reply` to the n-th request the server receives (1-based), whatever it is. */
  onRequest(n: number | number[], reply: ScriptedReply): Rule {
    const set = new Set(Array.isArray(n) ? n : [n]);
    return (v) => (set.has(v.index) ? reply : undefined);
  },
  when(pred: (v: RequestView) => boolean, reply: ScriptedReply | ((v: RequestView) => ScriptedReply)): Rule {
    return (v) => (pred(v) ? (typeof reply === 'function' ? reply(v) : reply) : undefined);
  },
};
