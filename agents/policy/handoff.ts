/**
 * Handoff, the pure part: the `handoff` tool the model calls, the context it transfers (objective, progress,
 * decisions, artifacts, next steps and a filtered conversation), the choice of the receiving agent among those
 * offering the capability, and the brief the receiver starts from. No threads, no I/O: testable as it is.
 */
import type { Block, ConvMessage } from './compaction.ts';

export const HANDOFF_TOOL = 'handoff';

/** What the model passes to the handoff tool. */
export interface HandoffInput {
  capability: string;
  objective: string;
  progress: string;
  decisions?: string[];
  artifacts?: string[];
  nextSteps: string[];
  reason?: string;
}

/** One line of the filtered conversation: text only (tool calls and results shortened to a line). */
export interface HandoffLine {
  role: 'user' | 'assistant';
  text: string;
}

/** What travels from the sender to the receiver (plain data: it crosses threads and is stored). */
export interface HandoffContext {
  from: { id: string; kind: string };
  /** The sender's run. */
  runId: string;
  task: string;
  capability: string;
  objective: string;
  progress: string;
  decisions: string[];
  artifacts: string[];
  nextSteps: string[];
  reason?: string;
  conversation: HandoffLine[];
  /** Agent ids the task went through, the sender last: a receiver never hands it back along the chain. */
  chain: string[];
  at: number;
}

export interface HandoffOptions {
  /** Capabilities this agent may hand off to (default: any). */
  capabilities?: string[];
  /** Longest chain of agents a task may go through (default 4). */
  maxChain?: number;
  /** Messages of the conversation transferred (the most recent; default 12). */
  maxMessages?: number;
  /** Characters kept of one tool call or result in the transferred conversation (default 300). */
  maxBlockChars?: number;
  /** How long the sender waits for the receiver's run (default 10 min). */
  timeoutMs?: number;
}

export function handoffToolSpec(o: HandoffOptions): { name: string; description: string; input_schema: Record<string, unknown> } {
  const strings = { type: 'array', items: { type: 'string' } };
  return {
    name: HANDOFF_TOOL,
    description: 'Hand the whole task to another agent that offers a capability, with what it needs to continue. The other agent finishes the task; its answer becomes yours.',
    input_schema: {
      type: 'object',
      properties: {
        capability: o.capabilities?.length ? { type: 'string', enum: o.capabilities } : { type: 'string', minLength: 1 },
        objective: { type: 'string', minLength: 1 },
        progress: { type: 'string' },
        decisions: strings,
        artifacts: strings,
        nextSteps: { ...strings, minItems: 1 },
        reason: { type: 'string' },
      },
      required: ['capability', 'objective', 'progress', 'nextSteps'],
      additionalProperties: false,
    },
  };
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n)}...`);

/**
 * The conversation as lines of text: tool_use and tool_result blocks shortened, the handoff call left out, the
 * last `maxMessages` kept. The first message (the task, or the brief this run started from) is in the brief already.
 */
export function filterConversation(messages: readonly ConvMessage[], o: Pick<HandoffOptions, 'maxMessages' | 'maxBlockChars'> = {}): HandoffLine[] {
  const max = o.maxBlockChars ?? 300;
  const blockText = (b: Block): string => {
    if (b.type === 'text') return b.text ?? '';
    if (b.type === 'tool_use') return b.name === HANDOFF_TOOL ? '' : `[called ${b.name}(${clip(JSON.stringify(b.input ?? {}), max)})]`;
    if (b.type === 'tool_result') {
      const c = typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
      return `[${b.is_error ? 'tool error' : 'tool result'}: ${clip(c, max)}]`;
    }
    return ''; // thinking, images...: not transferred
  };
  const lines: HandoffLine[] = [];
  for (const m of messages.slice(1)) {
    const text = (typeof m.content === 'string' ? m.content : m.content.map(blockText).filter(Boolean).join('\n')).trim();
    if (text) lines.push({ role: m.role, text });
  }
  return lines.slice(-(o.maxMessages ?? 12));
}

/** The first user message of the receiver's run: the task and everything the sender passed on. */
export function renderBrief(h: HandoffContext): string {
  const list = (title: string, xs: string[]) => (xs.length ? [`${title}:`, ...xs.map((x) => `- ${x}`)] : []);
  return [
    h.task,
    '',
    `(Handed off to you by ${h.from.kind} '${h.from.id}'${h.reason ? `: ${h.reason}` : ''}.)`,
    `Objective: ${h.objective}`,
    `Progress so far: ${h.progress || '(none)'}`,
    ...list('Decisions taken', h.decisions),
    ...list('Artifacts', h.artifacts),
    ...list('Next steps', h.nextSteps),
    ...(h.conversation.length ? ['Conversation so far (filtered):', ...h.conversation.map((l) => `${l.role}: ${l.text}`)] : []),
  ].join('\n');
}

export interface Candidate {
  id: string;
  kind: string;
  node: number;
  health: string;
}

/**
 * The receiver: the first (the router lists the least loaded first) healthy candidate that is neither the sender
 * nor an agent the task already went through; a non-healthy one only when no healthy one is left.
 */
export function chooseReceiver(candidates: readonly Candidate[], selfId: string, chain: readonly string[]): Candidate | undefined {
  const eligible = candidates.filter((c) => c.id !== selfId && !chain.includes(c.id));
  return eligible.find((c) => c.health === 'healthy') ?? eligible[0];
}

/** Why a handoff cannot go ahead, or undefined when it can. */
export function handoffProblem(input: HandoffInput, o: HandoffOptions, chain: readonly string[]): string | undefined {
  if (o.capabilities?.length && !o.capabilities.includes(input.capability)) return `this agent may hand off only to ${o.capabilities.join(', ')}`;
  if (chain.length + 1 > (o.maxChain ?? 4)) return `the task went through ${chain.length} agents already (maxChain ${o.maxChain ?? 4})`;
  return undefined;
}
