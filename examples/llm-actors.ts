// examples/llm-actors.ts: an LLM agent and the tool it calls (definitions only: workers import this module).
import { defineActor } from '../runtime/index.ts';
import { defineAgent, type ToolCall } from '../agents/index.ts';

/** A tool is any actor handler; it gets the validated input and an idempotency key (agent : turn : tool_use id). */
export const dictionary = defineActor({
  kind: 'dictionary',
  capabilities: ['definitions'],
  init: () => ({ lookups: 0 }),
  handlers: {
    define: (state, call: ToolCall<{ word: string }>) => {
      state.lookups++;
      return `${call.input.word}: a unit of computation with a mailbox`;
    },
  },
});

/** An agent: its persistent state is its conversation; each tool_use goes to an actor (here by capability). */
export const researcher = defineAgent({
  kind: 'researcher',
  model: 'claude-opus-4-5',
  system: 'You are a careful researcher.',
  maxTurns: 10,
  tools: [{
    name: 'define',
    description: 'Define a word',
    input_schema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
    capability: 'definitions', // or actor: ref | 'actor-id'
  }],
});
