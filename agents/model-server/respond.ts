/**
 * Turning a scripted reply into what the Messages API sends: a Message object (non-streaming), the exact SSE
 * event sequence (message_start, content_block_start, content_block_delta with text_delta / input_json_delta,
 * content_block_stop, message_delta with stop_reason and usage, message_stop), and error bodies.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { estimateTextTokens } from '../tokens.ts';
import type { ErrorKind, ScriptedReply, StopReason } from './script.ts';

export type ContentBlock =
  | { type: 'text'; text: string; citations: null }
  | { type: 'tool_use'; id: string; name: string; input: unknown; caller?: unknown };

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason;
  stop_sequence: null;
  stop_details: null;
  container: null;
  usage: Usage;
}

export const ERROR_STATUS: Record<ErrorKind, number> = {
  rate_limit: 429, overloaded: 529, api_error: 500, invalid_request: 400, authentication: 401, permission: 403, billing: 402, not_found: 404,
};
const ERROR_TYPE: Record<ErrorKind, string> = {
  rate_limit: 'rate_limit_error', overloaded: 'overloaded_error', api_error: 'api_error', invalid_request: 'invalid_request_error',
  authentication: 'authentication_error', permission: 'permission_error', billing: 'billing_error', not_found: 'not_found_error',
};
const ERROR_MESSAGE: Record<ErrorKind, string> = {
  rate_limit: 'Number of request tokens has exceeded your per-minute rate limit', overloaded: 'Overloaded', api_error: 'Internal server error',
  invalid_request: 'Invalid request', authentication: 'invalid x-api-key', permission: 'Your API key does not have permission to use the specified resource',
  billing: 'Your credit balance is too low', not_found: 'Not found',
};

export function errorType(kind: ErrorKind): string {
  return ERROR_TYPE[kind];
}

export function errorBody(kind: ErrorKind, message: string | undefined, requestId: string): object {
  return { type: 'error', error: { type: ERROR_TYPE[kind], message: message ?? ERROR_MESSAGE[kind] }, request_id: requestId };
}

/** Build the message for a text or tool_use reply. Tool ids derive from the prompt digest: same prompt, same ids. */
export function buildMessage(reply: Extract<ScriptedReply, { text: string } | { toolUse: unknown }>, model: string, inputTokens: number, maxTokens: number, digest: string, msgId: string): Message {
  const content: ContentBlock[] = [];
  let stop: StopReason;
  if ('toolUse' in reply) {
    if (reply.text) content.push({ type: 'text', text: reply.text, citations: null });
    const calls = Array.isArray(reply.toolUse) ? reply.toolUse : [reply.toolUse];
    calls.forEach((c, i) => content.push({ type: 'tool_use', id: toolUseId(digest, i), name: c.name, input: c.rawInput ?? c.input ?? {} }));
    stop = 'tool_use';
  } else {
    let text = reply.text;
    stop = reply.stopReason ?? 'end_turn';
    // A reply longer than max_tokens is cut there, as the model would be.
    if (estimateTextTokens(text) > maxTokens) {
      text = text.slice(0, maxTokens * 4);
      stop = 'max_tokens';
    }
    content.push({ type: 'text', text, citations: null });
  }
  const output = content.reduce((n, b) => n + estimateTextTokens(b.type === 'text' ? b.text : JSON.stringify(b.input) + b.name), 0);
  return {
    id: msgId, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, stop_details: null, container: null,
    usage: { input_tokens: inputTokens, output_tokens: Math.min(output, maxTokens), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function toolUseId(digest: string, i: number): string {
  return 'toolu_' + createHash('sha1').update(`${digest}:${i}`).digest('base64url').slice(0, 22);
}

export function sse(res: ServerResponse, event: string, data: object): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Write a whole message as the SSE event sequence; `chunkChars` splits text and tool input into deltas. */
export async function streamMessage(res: ServerResponse, m: Message, chunkChars: number, chunkDelayMs: number): Promise<void> {
  const pause = () => (chunkDelayMs > 0 ? new Promise((r) => setTimeout(r, chunkDelayMs)) : Promise.resolve());
  for (const ev of messageEvents(m, chunkChars)) {
    if (ev.type === 'content_block_delta') await pause();
    sse(res, ev.type, ev);
  }
}

/** A whole message as the stream's events, in order (the SSE event name is each one's `type`). */
export function messageEvents(m: Message, chunkChars: number): Array<{ type: string; [k: string]: unknown }> {
  const out: Array<{ type: string; [k: string]: unknown }> = [
    { type: 'message_start', message: { ...m, content: [], stop_reason: null, stop_sequence: null, usage: { ...m.usage, output_tokens: 1 } } },
    { type: 'ping' },
  ];
  for (const [index, b] of m.content.entries()) {
    if (b.type === 'text') {
      out.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } });
      for (const piece of chunks(b.text, chunkChars)) out.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else {
      out.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      // a raw input (ToolUseSpec.rawInput) goes as its characters, valid JSON or not
      for (const piece of chunks(typeof b.input === 'string' ? b.input : JSON.stringify(b.input), chunkChars)) {
        out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    out.push({ type: 'content_block_stop', index });
  }
  out.push({
    type: 'message_delta',
    delta: { stop_reason: m.stop_reason, stop_sequence: null, stop_details: null, container: null },
    usage: { input_tokens: m.usage.input_tokens, output_tokens: m.usage.output_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
  out.push({ type: 'message_stop' });
  return out;
}

function chunks(s: string, n: number): string[] {
  if (s.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}
