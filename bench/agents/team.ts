// Agent definitions for the agents bench (workers import this module).
import { defineActor } from '../../actors/define.ts';
import { defineAgent, type ToolCall } from '../../agents/index.ts';

/** One turn per run: the goodput bench. */
export const worker = defineAgent({ kind: 'bench.worker', model: 'claude-haiku-4-5', maxTokens: 64, stream: false });

/** Echoes its input: the tool of the long runs. */
export const echo = defineActor({
  kind: 'bench.echo',
  init: () => ({}),
  handlers: { echo: (_s, call: ToolCall<{ n: number }>) => `echo ${call.input.n}` },
});

/** Many turns per run, one tool call each: the per-turn overhead and resume benches. */
export const looper = defineAgent({
  kind: 'bench.looper',
  model: 'claude-haiku-4-5',
  maxTurns: 1000,
  maxTokens: 64,
  stream: false,
  tools: [{ name: 'echo', input_schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }, actor: 'echo' }],
});

/** The same without persistence: what the journal's commits cost per turn. */
export const lightLooper = defineAgent({
  kind: 'bench.light-looper',
  model: 'claude-haiku-4-5',
  maxTurns: 1000,
  maxTokens: 64,
  stream: false,
  durable: false,
  tools: [{ name: 'echo', input_schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }, actor: 'echo' }],
});

/** The durable looper with its tool declared readOnly: the tool runs while the response commits. */
export const readLooper = defineAgent({
  kind: 'bench.read-looper',
  model: 'claude-haiku-4-5',
  maxTurns: 1000,
  maxTokens: 64,
  stream: false,
  tools: [{ name: 'echo', input_schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }, actor: 'echo', readOnly: true }],
});
