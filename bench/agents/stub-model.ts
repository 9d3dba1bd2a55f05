// The SDK's messages.create answered in process, as the local server's bench rules would (a tool call to 'echo' per
// turn until `turns` - 1 results are in, then 'done'): no HTTP, no SDK request building. What is left of an agent's
// turn is Troupe's own work, measured directly instead of as the difference of two runs that each spend 1.5 ms per
// turn in HTTP (turn-overhead.ts, profile-turns.ts). Patches the SDK for the whole process: apply it last.
import Anthropic from '@anthropic-ai/sdk';

export function answerInProcess(turns: number): void {
  let seq = 0;
  const proto = (Anthropic as unknown as { Messages: { prototype: { create: unknown } } }).Messages.prototype;
  const headers = new Headers({ 'anthropic-ratelimit-requests-remaining': '1000', 'anthropic-ratelimit-input-tokens-remaining': '1000000' });
  proto.create = function create(body: { messages: Array<{ content: unknown }> }) {
    let results = 0;
    for (const m of body.messages) if (Array.isArray(m.content) && (m.content as Array<{ type: string }>).some((b) => b.type === 'tool_result')) results++;
    const usage = { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    const id = `msg_${++seq}`;
    const data = results < turns - 1
      ? { id, type: 'message', role: 'assistant', model: 'claude-haiku-4-5', stop_reason: 'tool_use', content: [{ type: 'tool_use', id: `toolu_${seq}`, name: 'echo', input: { n: results } }], usage }
      : { id, type: 'message', role: 'assistant', model: 'claude-haiku-4-5', stop_reason: 'end_turn', content: [{ type: 'text', text: 'done' }], usage };
    const reply = Promise.resolve(data) as Promise<unknown> & { withResponse?: unknown };
    reply.withResponse = async () => ({ data, response: { headers } });
    return reply;
  };
}
