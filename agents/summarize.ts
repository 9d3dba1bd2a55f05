/**
 * Summarising compaction (opt-in, `defineAgent({ summarize: true })`): before compaction drops the oldest
 * exchanges, one model call summarises them (with the note of any earlier compaction), and the note after the
 * task carries that summary instead of their shortened decisions. The call goes through the same governor and
 * recovery as a turn, but is not a turn; if it fails, compaction goes on without a summary.
 */
import { callModel, type CallEnv } from './model-call.ts';
import { filterConversation } from './policy/handoff.ts';
import { noteOf, type ConvMessage } from './policy/compaction.ts';

export const SUMMARY_SYSTEM = 'You summarise the earlier part of a conversation between a user and an AI agent, for the agent to carry on without it. Keep the facts found, decisions taken, artifacts made and open questions. Be brief.';

export interface Summary {
  text: string;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null };
  model: string;
}

/** The summary of `messages[1 .. 1 + 2 * exchanges]` (and of the earlier note in messages[0]), or undefined. */
export async function summarizeExchanges(model: string, messages: readonly ConvMessage[], exchanges: number, env: CallEnv): Promise<Summary | undefined> {
  const earlier = noteOf(messages[0]!);
  const lines = filterConversation([messages[0]!, ...messages.slice(1, 1 + 2 * exchanges)], { maxMessages: 2 * exchanges, maxBlockChars: 500 });
  const transcript = [...(earlier ? [`(earlier: ${earlier})`] : []), ...lines.map((l) => `${l.role}: ${l.text}`)].join('\n');
  try {
    const out = await callModel({ model, max_tokens: 512, system: SUMMARY_SYSTEM, messages: [{ role: 'user', content: `Summarise this part of the conversation:\n${transcript}` }] }, { ...env, stream: false, onText: () => undefined }, 0);
    if (out.kind !== 'message') return undefined;
    const text = out.message.content.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('').trim();
    return text ? { text, usage: out.message.usage, model: out.message.model } : undefined;
  } catch {
    return undefined; // a summary is a nicety: compaction without it still fits the window
  }
}
