/**
 * defineAgent: an actor kind whose persistent state is its conversation and its stats. `ask(agent, 'run',
 * { task })` runs the tool loop (loop.ts) and answers with the final text, stop reason, turns and usage.
 * The actor has a durable mailbox: a run interrupted by a lost thread or a killed process is replayed on
 * restart and resumes from its journal (journal.ts).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineActor, type ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import { reviveError } from '../runtime/errors.ts';
import { InvalidAgentDefinitionError } from './errors.ts';
import { resolveEndpoint, type Endpoint, type EndpointOptions } from './endpoint.ts';
import { GOVERNOR_ID } from './governor.ts';
import { runLoop, type RunRequest } from './loop.ts';
import type { RecoveryOptions } from './policy/recovery.ts';
import { costUsd, priceFor, priceTable, type PriceTable, type TokenCounts } from './prices.ts';
import type { ConvMessage } from './policy/compaction.ts';
import type { FailureClass } from './policy/classify.ts';
import { compileTools, type ToolSpec } from './tools.ts';
import { Ajv } from 'ajv';
import { HANDOFF_TOOL, handoffToolSpec, type HandoffOptions } from './policy/handoff.ts';
import type { TaskMessage } from '../tasks/types.ts';

export interface AgentSpec {
  kind: string;
  model: string;
  system?: string;
  tools?: ToolSpec[];
  capabilities?: string[];
  /** Model turns per run before MaxTurnsExceededError (default 20). */
  maxTurns?: number;
  /** max_tokens of each request (default 1024). */
  maxTokens?: number;
  /** Compact before a request whose estimated prompt is above this many tokens (default: only on the API's error). */
  contextWindow?: number;
  /** Messages kept whole by compaction (default 4). */
  keepRecent?: number;
  /** Compaction summarises the exchanges it drops with a model call (default false: their decisions, shortened). */
  summarize?: boolean;
  /** Stream responses (text deltas reach `notify`); default true. */
  stream?: boolean;
  /** Merged over the default price table; the model must be in the result. */
  prices?: PriceTable;
  recovery?: RecoveryOptions;
  /**
   * true (default): the conversation and each turn are on disk (durable mailbox, run journal): exactly-once turns
   * across crashes, at the price of two durable commits per turn. false: nothing is persisted (a crash loses the
   * run in flight), for agents whose runs are cheap to redo.
   */
  durable?: boolean;
  /**
   * Offer the model a `handoff` tool: it hands the whole task to another live agent offering a capability, with a
   * context (objective, progress, decisions, artifacts, next steps, the conversation filtered); that agent's answer
   * ends this run. true: to any capability; or options (which capabilities, chain length, timeout).
   */
  handoff?: boolean | HandoffOptions;
  /**
   * `perAgent: true`: tokens and cost are also in metrics by agent id (troupe_agent_by_id_tokens_total,
   * troupe_agent_by_id_cost_usd_total), for at most 200 ids per runtime (the rest as agent="_other"). Off by default:
   * an id label per agent is one series per agent; the per-kind metrics and every agent's stats() are always there.
   */
  metrics?: { perAgent?: boolean };
  /** Pass import.meta.url when the defining module cannot be found from the call stack. */
  module?: string;
}

export interface AgentArgs {
  endpoint?: EndpointOptions;
  /** The quota governor: a ref, an id, or false for none (default: the one started with startQuotaGovernor, if any). */
  governor?: ActorRef | string | false;
  /** Priority of this agent's requests at the governor (default 0; higher first). */
  priority?: number;
}

export interface RunResult {
  runId: string;
  text: string;
  stopReason: string;
  turns: number;
  tokens: TokenCounts;
  costUsd: number;
  failures: Partial<Record<FailureClass, number>>;
  compactions: number;
  toolCalls: number;
  /** The run ended by handing its task to this agent; `text` is that agent's answer. */
  handedOffTo?: { id: string; kind: string; runId: string };
  /** The run continued a task handed off by this agent's run. */
  receivedFrom?: { id: string; kind: string; runId: string };
}

/** A handoff as both agents keep it in their state (the last 100). */
export interface HandoffRecord {
  direction: 'sent' | 'received';
  /** This agent's run. */
  runId: string;
  /** The other agent and its run. */
  peer: { id: string; kind: string; runId: string };
  capability?: string;
  objective?: string;
  at: number;
}

/** What an agent answers to a task graph's task (plain data: it is the task's result). */
export interface AgentTaskResult {
  agent: string;
  kind: string;
  text: string;
  turns: number;
  tokens: TokenCounts;
  costUsd: number;
  stopReason: string;
}

export interface AgentStats {
  runs: number;
  turns: number;
  toolCalls: number;
  toolErrors: number;
  compactions: number;
  failures: Partial<Record<FailureClass, number>>;
  handoffs: { sent: number; received: number; refused: number };
  /** Tokens by type per model, and their cost. */
  byModel: Record<string, TokenCounts & { costUsd: number }>;
  costUsd: number;
}

interface AgentState {
  endpoint: Endpoint;
  governor: ActorRef | string | false | undefined;
  priority: number;
  /**
   * The last run's messages, as JSON: one string in the state rather than the whole conversation, which the runtime
   * would deep-freeze into the state at the end of every run (300 us for a 40-turn run). An array in a state written
   * before.
   */
  conversation: string | ConvMessage[];
  results: Record<string, RunResult>;
  /** How many results there are (enumerating the state's record from a handler costs a draft per entry). */
  resultCount?: number;
  /** Runs whose results are here but whose journal entries the journal was not yet told to forget (durable agents). */
  unforgotten?: string[];
  stats: AgentStats;
  handoffs: HandoffRecord[];
}

/** Results kept for `run` asked again with the same runId and for `result(runId)`: the last 100 (up to 115 between prunes). */
const KEEP_RESULTS = 100;
const PRUNE_EVERY = 16;

export function defineAgent(spec: AgentSpec) {
  if (typeof spec !== 'object' || spec === null) throw new InvalidAgentDefinitionError('defineAgent expects an object');
  const kind = spec.kind;
  if (typeof kind !== 'string' || kind === '') throw new InvalidAgentDefinitionError('kind must be a non-empty string');
  if (typeof spec.model !== 'string' || spec.model === '') throw new InvalidAgentDefinitionError(`${kind}: model must be a non-empty string`);
  const maxTurns = spec.maxTurns ?? 20;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) throw new InvalidAgentDefinitionError(`${kind}: maxTurns must be a positive integer`);
  const maxTokens = spec.maxTokens ?? 1024;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new InvalidAgentDefinitionError(`${kind}: maxTokens must be a positive integer`);
  if (spec.contextWindow !== undefined && !(spec.contextWindow > 0)) throw new InvalidAgentDefinitionError(`${kind}: contextWindow must be a positive number`);
  const prices = priceTable(spec.prices, kind); // a malformed entry is a named error here
  const price = priceFor(spec.model, prices); // an unknown model is a named error here, at definition
  const tools = compileTools(kind, spec.tools);
  const durable = spec.durable ?? true;
  const handoffOptions: HandoffOptions | undefined = spec.handoff === true ? {} : spec.handoff || undefined;
  if (handoffOptions !== undefined && (typeof handoffOptions !== 'object' || (handoffOptions.capabilities !== undefined && !Array.isArray(handoffOptions.capabilities)))) {
    throw new InvalidAgentDefinitionError(`${kind}: handoff must be true or { capabilities?: string[], maxChain?, maxMessages?, timeoutMs? }`);
  }
  if (handoffOptions && tools.byName.has(HANDOFF_TOOL)) throw new InvalidAgentDefinitionError(`${kind}: a tool named '${HANDOFF_TOOL}' clashes with handoff: true`);
  const handoff = handoffOptions ? { options: handoffOptions, validate: new Ajv({ allErrors: true, strict: false }).compile(handoffToolSpec(handoffOptions).input_schema) } : undefined;
  if (spec.metrics !== undefined && (typeof spec.metrics !== 'object' || spec.metrics === null || (spec.metrics.perAgent !== undefined && typeof spec.metrics.perAgent !== 'boolean'))) {
    throw new InvalidAgentDefinitionError(`${kind}: metrics must be { perAgent?: boolean }`);
  }
  const cfg = { durable, kind, perAgentMetrics: spec.metrics?.perAgent === true, model: spec.model, system: spec.system, maxTurns, maxTokens, contextWindow: spec.contextWindow, keepRecent: spec.keepRecent, stream: spec.stream ?? true, recovery: spec.recovery ?? {}, tools, handoff, summarize: spec.summarize === true,
    cost: (model: string, tokens: TokenCounts) => costUsd(tokens, prices[model] ?? price) };

  const runTask = async (state: AgentState, req: RunRequest, ctx: ActorContext, runId: string): Promise<RunResult> => {
    if (typeof req?.task !== 'string' || req.task === '') throw new InvalidAgentDefinitionError(`${kind}: run needs { task: string }`);
    const known = state.results[runId];
    if (known) return { ...known, failures: { ...known.failures }, tokens: { ...known.tokens } };
    const governor = await findGovernor(ctx, state.governor);
    // The journal forgets the runs whose results are in this state now (a state from before `unforgotten`: all of them).
    const done = durable ? [...(state.unforgotten ?? Object.keys(state.results))] : [];
    const env = { endpoint: { ...state.endpoint }, governor, priority: req.priority ?? state.priority, done };
    const run = await runLoop(cfg, ctx, req, runId, env);
    if (run.status === 'failed') throw reviveError({ name: run.error?.name ?? 'Error', message: run.error?.message ?? 'run failed', code: run.error?.code });
    const model = run.model ?? spec.model;
    const cost = costUsd(run.tokens, prices[model] ?? price);
    const result: RunResult = {
      runId, text: run.finalText ?? '', stopReason: run.stopReason ?? 'end_turn', turns: run.turns, tokens: run.tokens, costUsd: cost,
      failures: run.failures, compactions: run.compactions, toolCalls: run.toolCalls,
      ...(run.handedOffTo ? { handedOffTo: run.handedOffTo } : {}), ...(run.receivedFrom ? { receivedFrom: run.receivedFrom } : {}),
    };
    const s = state.stats;
    s.handoffs ??= { sent: 0, received: 0, refused: 0 }; // state written before handoffs existed
    state.handoffs ??= [];
    s.runs++;
    s.turns += run.turns;
    s.toolCalls += run.toolCalls;
    s.toolErrors += run.toolErrors;
    s.compactions += run.compactions;
    for (const [c, n] of Object.entries(run.failures)) s.failures[c as FailureClass] = (s.failures[c as FailureClass] ?? 0) + (n ?? 0);
    const m = (s.byModel[model] ??= { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 });
    m.input += run.tokens.input;
    m.output += run.tokens.output;
    m.cacheRead += run.tokens.cacheRead;
    m.cacheWrite += run.tokens.cacheWrite;
    m.costUsd += cost;
    s.costUsd += cost;
    s.handoffs.refused += run.handoffsRefused ?? 0;
    const at = Date.now();
    if (run.receivedFrom) {
      s.handoffs.received++;
      state.handoffs.push({ direction: 'received', runId, peer: run.receivedFrom, capability: req.handoff?.capability, objective: req.handoff?.objective, at });
    }
    if (run.handedOffTo) {
      s.handoffs.sent++;
      const sent = run.messages.flatMap((msg) => (typeof msg.content === 'string' ? [] : msg.content)).filter((b) => b.type === 'tool_use' && b.name === HANDOFF_TOOL).pop();
      const input = (sent?.input ?? {}) as { capability?: string; objective?: string };
      state.handoffs.push({ direction: 'sent', runId, peer: run.handedOffTo, capability: input.capability, objective: input.objective, at });
    }
    if (state.handoffs.length > KEEP_RESULTS) state.handoffs.splice(0, state.handoffs.length - KEEP_RESULTS);
    state.conversation = JSON.stringify(run.messages);
    state.results[runId] = result;
    if (durable) state.unforgotten = [runId];
    state.resultCount = (state.resultCount ?? Object.keys(state.results).length - 1) + 1;
    if (state.resultCount >= KEEP_RESULTS + PRUNE_EVERY) {
      const ids = Object.keys(state.results);
      for (const old of ids.slice(0, Math.max(0, ids.length - KEEP_RESULTS))) delete state.results[old];
      state.resultCount = Math.min(ids.length, KEEP_RESULTS);
    }
    return result;
  };

  return defineActor({
    kind,
    capabilities: spec.capabilities ?? [],
    persistence: durable ? { durableMailbox: true } : undefined,
    module: spec.module ?? callerModule(),
    init: (args: AgentArgs | undefined): AgentState => ({
      endpoint: resolveEndpoint(args?.endpoint), // a missing key for the real API fails the spawn, by name
      governor: args?.governor,
      priority: args?.priority ?? 0,
      conversation: '[]',
      results: {},
      resultCount: 0,
      stats: { runs: 0, turns: 0, toolCalls: 0, toolErrors: 0, compactions: 0, failures: {}, handoffs: { sent: 0, received: 0, refused: 0 }, byModel: {}, costUsd: 0 },
      handoffs: [],
    }),
    handlers: {
      run: (state, req: RunRequest, ctx): Promise<RunResult> => runTask(state, req, ctx, req?.runId ?? (ctx.messageId || `${ctx.self.id}:${Date.now()}`)),
      /**
       * A task of a task graph (tasks/): the payload's `task`, with the results of the tasks it depends on. The run
       * is named after the attempt's message id, so a re-dispatch of the same attempt resumes or answers that run.
       */
      task: async (state, msg: TaskMessage<{ task: string }>, ctx): Promise<AgentTaskResult> => {
        const deps = Object.entries(msg?.deps ?? {}).map(([id, r]) => `- ${id}: ${typeof r === 'object' && r !== null && 'text' in r ? (r as { text: string }).text : JSON.stringify(r)}`);
        const task = deps.length ? `${msg.payload?.task}\n\nResults of the tasks this one depends on:\n${deps.join('\n')}` : msg?.payload?.task;
        const r = await runTask(state, { task }, ctx, `task:${msg.messageId}`);
        return { agent: ctx.self.id, kind, text: r.text, turns: r.turns, tokens: r.tokens, costUsd: r.costUsd, stopReason: r.stopReason };
      },
      result: (state, runId: string) => state.results[runId],
      stats: (state) => state.stats,
      conversation: (state): ConvMessage[] => (typeof state.conversation === 'string' ? JSON.parse(state.conversation) : state.conversation),
      /** Handoffs this agent sent and received (the last 100). */
      handoffs: (state) => state.handoffs,
    },
  });
}

async function findGovernor(ctx: { lookup(id: string): Promise<ActorRef | undefined> }, g: ActorRef | string | false | undefined): Promise<ActorRef | undefined> {
  if (g === false) return undefined;
  if (g && typeof g === 'object') return g;
  return ctx.lookup(g ?? GOVERNOR_ID);
}

function callerModule(): string {
  const here = fileURLToPath(import.meta.url);
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (path !== here) return pathToFileURL(path).href;
  }
  throw new InvalidAgentDefinitionError('cannot tell which module defines this agent: pass module: import.meta.url');
}
