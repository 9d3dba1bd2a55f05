// The baseline of the per-turn benches: the same tool-calling conversation made straight with the SDK in a plain loop,
// the tool ('echo') called as a function. Returns the run's time (ms).
import type Anthropic from '@anthropic-ai/sdk';

export const echoTools = [{ name: 'echo', input_schema: { type: 'object' as const, properties: { n: { type: 'number' } }, required: ['n'] } }];

export async function plainLoop(client: Anthropic, task: string, turns: number): Promise<number> {
  const t0 = performance.now();
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: task }];
  for (let turn = 0; turn < turns; turn++) {
    const m = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, tools: echoTools, messages });
    messages.push({ role: 'assistant', content: m.content.map((b) => (b.type === 'tool_use' ? { type: 'tool_use', id: b.id, name: b.name, input: b.input } : { type: 'text', text: (b as { text: string }).text })) as never });
    if (m.stop_reason !== 'tool_use') break;
    const uses = m.content.filter((b) => b.type === 'tool_use') as Array<{ id: string; input: { n: number } }>;
    messages.push({ role: 'user', content: uses.map((u) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: `echo ${u.input.n}` })) });
  }
  return performance.now() - t0;
}
