// examples/team-agents.ts: the demo's agent team (definitions only: workers import this module). A manager plans the
// work with the plan tool; researchers, a coder and a reviewer take the planned tasks by capability; two tool actors.
// The agents are durable (the default): each turn is in their journal on disk, so a run survives a lost thread or a
// killed process (the demo runs on a scratch data directory unless given one).
import { defineActor } from '../runtime/index.ts';
import { defineAgent, planTool, type ToolCall } from '../agents/index.ts';

// Two models, so cost and tokens show per model: the planner and the reviewer on the larger one.
const large = 'claude-opus-4-5';
const small = 'claude-haiku-4-5';
const text = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

/** The manager: decomposes a request into tasks with dependencies; the planner runs them as a task graph. */
export const manager = defineAgent({
  kind: 'manager',
  model: large,
  system: 'You are the manager of a small engineering team. Decompose the request with the plan tool, then report the outcome.',
  maxTurns: 6,
  metrics: { perAgent: true }, // tokens and cost by agent id in /metrics (the dashboard's "Cost by agent id")
  tools: [planTool({ capabilities: ['research', 'code', 'review'] })],
});

/** Researchers search; a model failure is not retried here (recovery), so one makes the run crash: supervision decides. */
export const researcher = defineAgent({
  kind: 'researcher',
  model: small,
  system: 'You are a researcher. Search, then answer with your findings.',
  capabilities: ['research'],
  maxTurns: 4,
  metrics: { perAgent: true },
  recovery: { maxTransientRetries: 0 },
  tools: [{ name: 'search', description: 'Search the documentation', input_schema: text({ query: { type: 'string' } }, ['query']), capability: 'search', readOnly: true }],
});

export const coder = defineAgent({
  kind: 'coder',
  model: small,
  system: 'You are a coder. Write the code, run the tests, answer with what you did.',
  capabilities: ['code'],
  maxTurns: 6,
  metrics: { perAgent: true },
  tools: [{ name: 'run_tests', description: 'Run the test suite', input_schema: text({ files: { type: 'array', items: { type: 'string' } } }, ['files']), capability: 'tests' }],
});

/** The reviewer may hand a task to a coder (handoff): the coder continues from what the reviewer found. */
export const reviewer = defineAgent({
  kind: 'reviewer',
  model: large,
  system: 'You are a reviewer. Review the change; hand fixes to a coder.',
  capabilities: ['review'],
  maxTurns: 4,
  metrics: { perAgent: true },
  handoff: { capabilities: ['code'] },
});

/** Tool actors: a documentation index and a test runner. */
export const library = defineActor({
  kind: 'library',
  capabilities: ['search'],
  init: () => ({ queries: 0 }),
  handlers: {
    search: (state, call: ToolCall<{ query: string }>) => {
      state.queries++;
      return `3 documents about "${call.input.query}"`;
    },
  },
});

export const sandbox = defineActor({
  kind: 'sandbox',
  capabilities: ['tests'],
  init: () => ({ runs: 0 }),
  handlers: {
    run_tests: (state, call: ToolCall<{ files: string[] }>) => {
      state.runs++;
      return `${call.input.files.length * 6} tests passed`;
    },
  },
});
