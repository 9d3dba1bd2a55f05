/**
 * Compaction: make a conversation fit a token budget without losing what matters. In order, stopping as soon
 * as it fits:
 *   1. truncate the oldest tool results (outside the recent turns) to a short placeholder;
 *   2. drop the oldest whole exchanges (an assistant message and the user message that answers it, so a
 *      tool_use and its tool_result always go together), noting what was dropped and the key decisions (the
 *      assistant's own text, shortened) in a note after the task;
 *   3. truncate the tool results of the recent turns too.
 * Always kept: the system prompt (outside the messages; it only counts toward the budget), the task (the first
 * user message, unchanged), and the last `keepRecent` messages. If even that does not fit: { ok: false }.
 */
import { estimateInputTokens } from '../tokens.ts';

export interface Block {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
  [k: string]: unknown;
}
export interface ConvMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface CompactionInput {
  system?: unknown;
  tools?: unknown;
  messages: ConvMessage[];
  budgetTokens: number;
  /** Messages at the end kept whole in stages 1 and 2 (default 4: two exchanges). */
  keepRecent?: number;
  /**
   * A summary of the oldest `exchanges` exchanges (made by a model call, agents/loop.ts): the note after the task
   * carries it instead of their shortened decisions.
   */
  summary?: { text: string; exchanges: number };
}

export type CompactionResult =
  | { ok: true; messages: ConvMessage[]; tokens: number; truncated: number; dropped: number }
  | { ok: false; tokens: number };

const NOTE_PREFIX = '[compaction] ';

export function compactConversation(input: CompactionInput): CompactionResult {
  const size = (ms: ConvMessage[]) => estimateInputTokens({ system: input.system, tools: input.tools, messages: ms });
  let messages = input.messages.map((m) => ({ ...m, content: Array.isArray(m.content) ? m.content.map((b) => ({ ...b })) : m.content }));
  const keepRecent = Math.max(1, input.keepRecent ?? 4);
  let truncated = 0;
  let dropped = 0;
  const decisions: string[] = [];
  const fits = () => size(messages) <= input.budgetTokens;
  const done = (): CompactionResult => ({ ok: true, messages, tokens: size(messages), truncated, dropped });
  if (fits()) return done();

  // 1. oldest tool results first, outside the recent window and never the task
  const protectedFrom = () => Math.max(1, messages.length - keepRecent);
  const truncateResults = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) {
      const m = messages[i];
      if (!Array.isArray(m.content)) continue;
      for (const b of m.content) {
        if (b.type !== 'tool_result' || isPlaceholder(b.content)) continue;
        b.content = `[tool result elided by compaction: ${JSON.stringify(b.content ?? '').length} chars]`;
        truncated++;
        if (fits()) return true;
      }
    }
    return false;
  };
  if (truncateResults(1, protectedFrom())) return done();

  // 2. drop the oldest exchanges (assistant at i, its answering user message at i + 1), after the task
  while (messages.length - 3 >= keepRecent && messages[1]?.role === 'assistant') {
    const [assistant] = messages.splice(1, 2);
    dropped++;
    const said = textOf(assistant.content).trim();
    if (said) decisions.push(said.length > 160 ? said.slice(0, 157) + '...' : said);
    messages = withNote(messages, dropped, decisions, input.summary);
    if (fits()) return done();
  }

  // 3. the recent tool results too
  if (truncateResults(1, messages.length)) return done();
  return { ok: false, tokens: size(messages) };
}

function withNote(messages: ConvMessage[], dropped: number, decisions: string[], summary?: { text: string; exchanges: number }): ConvMessage[] {
  const [task, ...rest] = messages;
  const blocks = typeof task.content === 'string' ? [{ type: 'text', text: task.content }] : task.content.filter((b) => !(b.type === 'text' && b.text?.startsWith(NOTE_PREFIX)));
  // Only the latest decisions: the note must not grow without bound as more exchanges are dropped. With a
  // summary, the decisions of the exchanges it covers are in it.
  const kept = (summary ? decisions.slice(summary.exchanges) : decisions).slice(-5);
  const summarized = summary && dropped >= summary.exchanges ? ` Summary of them: ${summary.text}` : '';
  const note = `${NOTE_PREFIX}${dropped} earlier exchange(s) were dropped to fit the context window.${summarized}${kept.length ? ' Decisions so far: ' + kept.join(' | ') : ''}`;
  return [{ role: 'user', content: [...blocks, { type: 'text', text: note }] }, ...rest];
}

function isPlaceholder(c: unknown): boolean {
  return typeof c === 'string' && c.startsWith('[tool result elided');
}

function textOf(c: string | Block[]): string {
  return typeof c === 'string' ? c : c.filter((b) => b.type === 'text').map((b) => b.text ?? '').join(' ');
}

/** The task's content blocks, as compaction keeps them (a string task becomes one text block). */
/** Text of the compaction note in a task message (what an earlier compaction kept), or ''. */
export function noteOf(task: ConvMessage): string {
  return typeof task.content === 'string' ? '' : task.content.filter((b) => b.type === 'text' && b.text?.startsWith(NOTE_PREFIX)).map((b) => b.text!.slice(NOTE_PREFIX.length)).join(' ');
}

export function taskBlocks(task: ConvMessage): Block[] {
  return typeof task.content === 'string' ? [{ type: 'text', text: task.content }] : task.content.filter((b) => !(b.type === 'text' && b.text?.startsWith(NOTE_PREFIX)));
}
