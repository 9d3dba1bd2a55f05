/**
 * A streamed Messages API response, read from the SDK's raw event stream (`messages.create({ stream: true })`) and
 * put together here rather than by the SDK's MessageStream, for one reason: MessageStream parses a tool_use's input
 * JSON when the block ends and fails the whole response when it does not parse. A model can send such input; the
 * turn must not fail for it: the call keeps `{}` as its input and what the model sent (`invalidInput`), and goes back
 * to the model as an is_error tool_result (tools.ts). An `error` event inside the stream (an overloaded 200) is an
 * APIError thrown by the SDK's stream, classified like any failure (policy/classify.ts).
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { AssistantMessage, ModelRequestBody } from './model-call.ts';
import type { ModelClient, ModelRequestMeta } from './model-client.ts';

type Block = AssistantMessage['content'][number];

export async function streamMessage(client: ModelClient, body: ModelRequestBody, meta: ModelRequestMeta, onText: (delta: string) => void): Promise<{ message: AssistantMessage; headers: Headers | undefined }> {
  const { data: events, headers } = await client.create({ ...body, stream: true }, meta);
  let message: AssistantMessage | undefined;
  const json: string[] = [];
  for await (const ev of events as unknown as AsyncIterable<Anthropic.MessageStreamEvent>) {
    if (ev.type === 'message_start') message = { ...(ev.message as unknown as AssistantMessage), content: [] };
    if (!message) continue;
    const content = message.content;
    switch (ev.type) {
      case 'content_block_start':
        content[ev.index] = { ...(ev.content_block as unknown as Block) };
        if (ev.content_block.type === 'tool_use' || ev.content_block.type === 'server_tool_use') json[ev.index] = '';
        break;
      case 'content_block_delta': {
        const b = content[ev.index];
        const d = ev.delta;
        if (!b) break;
        if (d.type === 'text_delta') {
          b.text = (b.text ?? '') + d.text;
          onText(d.text);
        } else if (d.type === 'input_json_delta') json[ev.index] = (json[ev.index] ?? '') + d.partial_json;
        else if (d.type === 'thinking_delta') b.thinking = String(b.thinking ?? '') + d.thinking;
        else if (d.type === 'signature_delta') b.signature = d.signature;
        else if (d.type === 'citations_delta') b.citations = [...((b.citations as unknown[] | null) ?? []), d.citation];
        break;
      }
      case 'content_block_stop': {
        const text = json[ev.index];
        const b = content[ev.index];
        if (text === undefined || !b) break;
        try {
          b.input = text === '' ? {} : JSON.parse(text);
        } catch (err) {
          b.input = {};
          b.invalidInput = { json: text, error: (err as Error).message };
        }
        break;
      }
      case 'message_delta': {
        message.stop_reason = ev.delta.stop_reason;
        const u = ev.usage as Partial<AssistantMessage['usage']> & { output_tokens: number };
        message.usage = { ...message.usage, output_tokens: u.output_tokens };
        for (const k of ['input_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) if (u[k] != null) (message.usage as Record<string, unknown>)[k] = u[k];
        break;
      }
    }
  }
  if (!message) throw new Error('the streamed response ended before its message_start event');
  return { message, headers };
}
