/**
 * The tool loop of one run: model turn, tool calls (in parallel, each answered by an actor), tool results back,
 * until the model ends its turn or maxTurns. Every completed response and every tool result is saved to the
 * journal (a durable ask) before the loop goes on, so a replayed run resumes where it was.
 */
import type { ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import { handlerTime } from '../runtime/extensions.ts';
import { ContextWindowExceededError, MaxTurnsExceededError, ModelRefusalError } from './errors.ts';
import type { Endpoint } from './endpoint.ts';
import { agentJournal, journalId } from './journal.ts';
import { callModel, type AssistantMessage } from './model-call.ts';
import { compactConversation } from './policy/compaction.ts';
import type { RecoveryOptions } from './policy/recovery.ts';
import { onStopReason } from './policy/recovery.ts';
import { addUsage, newRun, type RunDelta, type RunState, type ToolResultBlock, type ToolUse } from './run-state.ts';
import { PromptSizer } from './tokens.ts';
import { runTool, type CompiledTools } from './tools.ts';
import { handOff } from './handoff.ts';
import { HANDOFF_TOOL, handoffToolSpec, renderBrief, type HandoffContext, type HandoffOptions } from './policy/handoff.ts';
import type { ValidateFunction } from 'ajv';
import { MeterBatch, report } from './meter.ts';
import type { TokenCounts } from './prices.ts';
import { summarizeExchanges } from './summarize.ts';

export interface LoopConfig {
  /** false: no journal (nothing saved, nothing resumed). */
  durable: boolean;
  model: string;
  system?: string;
  maxTurns: number;
  maxTokens: number;
  contextWindow?: number;
  keepRecent?: number;
  stream: boolean;
  recovery: RecoveryOptions;
  tools: CompiledTools;
  kind: string;
  /** Compaction summarises the exchanges it drops with a model call (agents/summarize.ts). */
  summarize?: boolean;
  /** USD for tokens of a model (the agent's price table). */
  cost: (model: string, tokens: TokenCounts) => number;
  /** The handoff tool is offered (and handled here, not dispatched) when set. */
  handoff?: { options: HandoffOptions; validate: ValidateFunction };
  /** Tokens and cost are also metered with the agent's id as a label (agents/meter.ts). */
  perAgentMetrics?: boolean;
}

export interface RunRequest {
  task: string;
  /** Names the run: asking again with the same runId returns its result, or resumes it. Default: the message id. */
  runId?: string;
  /** Gets an 'agentEvent' message per event (text deltas, progress, retries, compactions). */
  notify?: ActorRef;
  priority?: number;
  /** Continue a task another agent handed off: the run starts from this context (agents/policy/handoff.ts). */
  handoff?: HandoffContext;
}

export type AgentEvent =
  | { type: 'text'; runId: string; turn: number; delta: string }
  | { type: 'progress'; runId: string; turn: number; maxTurns: number; phase: 'model' | 'tools'; toolsInFlight: number }
  | { type: 'retry'; runId: string; turn: number; class: string; delayMs: number; attempt: number }
  | { type: 'compacted'; runId: string; turn: number; truncated: number; dropped: number; tokens: number }
  | { type: 'handoff'; runId: string; turn: number; outcome: 'sent' | 'refused' | 'received'; capability?: string; to?: string; from?: string; code?: string }
  | { type: 'done'; runId: string; turns: number; stopReason?: string };

export interface LoopEnv {
  endpoint: Endpoint;
  governor: ActorRef | undefined;
  priority: number;
  done: string[];
}

/** The run, and what it met and spent counted at the meter (agents/meter.ts) when it ends, fails or crashes. */
export async function runLoop(cfg: LoopConfig, ctx: ActorContext, req: RunRequest, runId: string, env: LoopEnv): Promise<RunState> {
  const metered = new MeterBatch(cfg.kind, cfg.perAgentMetrics ? ctx.self.id : undefined);
  const outcome = (o: string) => metered.add('runs', { kind: cfg.kind, outcome: o }, 1);
  try {
    const run = await loop(cfg, ctx, req, runId, env, metered);
    if (metered.size) outcome(run.handedOffTo ? 'handed_off' : 'completed'); // nothing metered: a run answered from its journal
    return run;
  } catch (err) {
    outcome('failed');
    throw err;
  } finally {
    void report(ctx, metered);
  }
}

async function loop(cfg: LoopConfig, ctx: ActorContext, req: RunRequest, runId: string, env: LoopEnv, metered: MeterBatch): Promise<RunState> {
  const journal = cfg.durable ? await ensureJournal(ctx) : undefined;
  if (journal && env.done.length) ctx.tell(journal, 'forget', env.done);
  const saved = journal ? ((await ctx.ask(journal, 'get', runId)) as RunState | undefined) : undefined;
  let run: RunState = saved ? structuredClone(saved) : newRun(runId, req.task, Date.now(), req.handoff ? renderBrief(req.handoff) : req.task);
  if (run.pending) run.pending.results = resultsRecord(run.pending.results);
  if (!saved && req.handoff) {
    run.receivedFrom = { id: req.handoff.from.id, kind: req.handoff.from.kind, runId: req.handoff.runId };
    run.chain = req.handoff.chain;
  }
  if (run.status !== 'running') return run;
  // What the journal has: a save sends only the messages appended since (and the small fields), unless the
  // conversation was rewritten (compaction). Same-thread payloads go by reference and the journal freezes its
  // state: what is sent is a copy, ours stays mutable.
  let savedMessages = saved ? run.messages.length : -1;
  let savedArray = run.messages;
  const save = async () => {
    if (!journal) return;
    const { messages, ...fields } = run;
    const whole = savedMessages < 0 || savedArray !== messages || messages.length < savedMessages;
    const delta: RunDelta = whole ? { ...fields, messages } : { ...fields, append: messages.slice(savedMessages) };
    savedMessages = messages.length;
    savedArray = messages;
    // A send resolves once the message is journaled (one commit): the journal applies it and snapshots its state
    // later, riding a later commit. An ask would wait for a second commit, of the snapshot.
    const earlier = unconfirmed; // an earlier save nobody awaited: its failure surfaces here
    unconfirmed = undefined;
    await ctx.send(journal, 'save', structuredClone(delta), { timeoutMs: 30_000 });
    await earlier;
  };
  /** A read-only turn's response save, committing while its tools run (awaited by the next save). */
  let unconfirmed: Promise<void> | undefined;
  const emit = (ev: AgentEvent) => {
    if (req.notify) ctx.tell(req.notify, 'agentEvent' as never, ev as never);
  };
  const fail = async (err: Error): Promise<never> => {
    run.status = 'failed';
    run.error = { name: err.name, message: err.message, code: (err as { code?: string }).code };
    await save();
    throw err;
  };
  const compact = async (budget: number) => {
    const input = { system: cfg.system, tools: cfg.tools.api, messages: run.messages, budgetTokens: budget, keepRecent: cfg.keepRecent };
    let r = compactConversation(input);
    if (r.ok && r.dropped > 0 && cfg.summarize) {
      const summary = await summarizeExchanges(cfg.model, run.messages, r.dropped, callEnv);
      if (summary) {
        const used = addUsage({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, summary.usage);
        run.tokens = addUsage(run.tokens, summary.usage);
        metered.usage(summary.model, used, cfg.cost(summary.model, used), false);
        r = compactConversation({ ...input, summary: { text: summary.text, exchanges: r.dropped } });
      }
    }
    if (!r.ok) return fail(new ContextWindowExceededError(`the conversation (${r.tokens} tokens) cannot be compacted below ${budget} tokens`));
    run.messages = r.messages;
    run.compactions++;
    await save();
    emit({ type: 'compacted', runId, turn: run.turns, truncated: r.truncated, dropped: r.dropped, tokens: r.tokens });
  };
  await save();
  const callEnv = {
    ctx, endpoint: env.endpoint, governor: env.governor, priority: env.priority, stream: cfg.stream, recovery: cfg.recovery, random: handlerTime(ctx)?.random ?? Math.random,
    onText: (delta: string) => emit({ type: 'text', runId, turn: run.turns + 1, delta }),
    onRetry: (r: { class: string; delayMs: number; attempt: number }) => emit({ type: 'retry', runId, turn: run.turns + 1, ...r }),
    onFailure: (c: string) => {
      metered.failure(c as never);
      run.failures[c as keyof RunState['failures']] = (run.failures[c as keyof RunState['failures']] ?? 0) + 1;
    },
  };

  const toolsApi = cfg.handoff ? [...cfg.tools.api, handoffToolSpec(cfg.handoff.options)] : cfg.tools.api;
  if (run.receivedFrom && !saved) metered.add('handoffs', { kind: cfg.kind, outcome: 'received' }, 1);
  if (run.receivedFrom && !saved) emit({ type: 'handoff', runId, turn: 0, outcome: 'received', from: run.receivedFrom.id, capability: req.handoff?.capability });
  let compactedThisTurn = 0; // compactions before this turn's response: the recovery policy caps them per turn
  /** The save of the last tool results, committing while the next request is in flight. */
  let carried: Promise<void> | undefined;
  const sizer = new PromptSizer(); // the run's messages are appended, never edited: each is measured once
  for (;;) {
    if (run.pending) {
      const p = run.pending;
      // A handoff call is not dispatched: it is done here once the other calls of the response are answered.
      const hand = cfg.handoff ? p.uses.find((u) => u.name === HANDOFF_TOOL && !p.results[u.id]) : undefined;
      const missing = p.uses.filter((u) => !p.results[u.id] && u !== hand);
      if (req.notify) emit({ type: 'progress', runId, turn: run.turns, maxTurns: cfg.maxTurns, phase: 'tools', toolsInFlight: missing.length });
      let left = missing.length;
      await Promise.all(missing.map(async (u) => {
        p.results[u.id] = await runTool(ctx, cfg.tools, u, p.turn);
        run.toolCalls++;
        if (p.results[u.id].is_error) run.toolErrors++;
        if (--left === 0 && !hand) {
          // The last result in: it and the user message carrying all of them are one save, which commits while
          // the next model request is in flight (its response is taken only once the save is durable).
          run.messages.push({ role: 'user', content: p.uses.map((x) => ({ ...p.results[x.id] })) });
          run.pending = undefined;
          carried = save();
          carried.catch(() => undefined); // awaited after the request; a failure surfaces there
          return;
        }
        await save();
      }));
      if (hand) {
        const out = await handOff({ ctx, agentKind: cfg.kind, options: cfg.handoff!.options, validate: cfg.handoff!.validate, run, save }, hand);
        if (out.kind === 'done') {
          p.results[hand.id] = { type: 'tool_result', tool_use_id: hand.id, content: `handed off to ${out.to.kind} '${out.to.id}', which answered` };
          run.messages.push({ role: 'user', content: p.uses.map((x) => ({ ...p.results[x.id] })) });
          run.pending = undefined;
          run.handoff = undefined;
          run.handedOffTo = { id: out.to.id, kind: out.to.kind, runId: out.receiverRunId };
          run.status = 'done';
          run.finalText = out.text;
          run.stopReason = 'handoff';
          await save();
          metered.add('handoffs', { kind: cfg.kind, outcome: 'sent' }, 1);
          emit({ type: 'handoff', runId, turn: run.turns, outcome: 'sent', capability: (hand.input as { capability?: string }).capability, to: out.to.id });
          emit({ type: 'done', runId, turns: run.turns, stopReason: run.stopReason });
          return run;
        }
        p.results[hand.id] = out.block;
        run.handoffsRefused = (run.handoffsRefused ?? 0) + 1;
        metered.add('handoffs', { kind: cfg.kind, outcome: 'refused' }, 1);
        emit({ type: 'handoff', runId, turn: run.turns, outcome: 'refused', capability: (hand.input as { capability?: string })?.capability, code: out.code });
      }
      if (run.pending) {
        // every result was in (saved before a crash, or a handoff refused): only the user message is left to add
        run.messages.push({ role: 'user', content: p.uses.map((x) => ({ ...p.results[x.id] })) });
        run.pending = undefined;
        await save();
      }
    }
    if (run.turns >= cfg.maxTurns) return fail(new MaxTurnsExceededError(`run ${runId} took ${run.turns} turns without ending (maxTurns ${cfg.maxTurns})`, { details: { runId, turns: run.turns } }));
    const body = { model: cfg.model, max_tokens: cfg.maxTokens, ...(cfg.system ? { system: cfg.system } : {}), ...(toolsApi.length ? { tools: toolsApi } : {}), messages: run.messages };
    const estimate = sizer.tokens(body);
    if (cfg.contextWindow && estimate > cfg.contextWindow) {
      await compact(Math.floor(cfg.contextWindow * 0.8));
      continue;
    }
    if (req.notify) emit({ type: 'progress', runId, turn: run.turns + 1, maxTurns: cfg.maxTurns, phase: 'model', toolsInFlight: 0 });
    const committing = carried;
    carried = undefined;
    let out: Awaited<ReturnType<typeof callModel>>;
    try {
      out = await callModel(body, callEnv, compactedThisTurn, estimate);
    } finally {
      await committing; // the request's content is durable before anything is done with its response
    }
    if (out.kind === 'compact') {
      compactedThisTurn++;
      const limit = out.maxTokens ?? cfg.contextWindow ?? estimate;
      await compact(Math.floor(Math.min(limit, estimate) * 0.8));
      continue;
    }
    const msg: AssistantMessage = out.message;
    compactedThisTurn = 0;
    run.messages.push({ role: 'assistant', content: msg.content.map(plainBlock) });
    run.turns++;
    run.tokens = addUsage(run.tokens, msg.usage);
    const used = addUsage({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }, msg.usage);
    metered.usage(msg.model, used, cfg.cost(msg.model, used));
    metered.duration(msg.model, out.seconds);
    run.model = msg.model;
    const text = msg.content.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('');
    switch (onStopReason(msg.stop_reason)) {
      case 'done':
        run.status = 'done';
        run.finalText = (run.partial ?? '') + text;
        run.partial = undefined;
        run.stopReason = msg.stop_reason ?? 'end_turn';
        await save();
        emit({ type: 'done', runId, turns: run.turns, stopReason: run.stopReason });
        return run;
      case 'run-tools': {
        const uses: ToolUse[] = msg.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id!, name: b.name!, input: b.input, ...(b.invalidInput ? { invalidInput: b.invalidInput as ToolUse['invalidInput'] } : {}) }));
        run.partial = undefined;
        run.pending = { turn: run.turns, uses, results: resultsRecord() };
        const saving = save();
        // Tools that only read (ToolSpec.readOnly) run while the response commits: a crash before the commit asks
        // the model again and they run again, which costs nothing. Any other tool waits for the response on disk.
        if (uses.every((u) => readsOnly(cfg, u))) {
          unconfirmed = saving;
          saving.catch(() => undefined); // surfaces at the next save, which the next request's response waits for
        } else await saving;
        break;
      }
      case 'continue':
        run.continuations++;
        if (msg.stop_reason === 'max_tokens') {
          run.partial = (run.partial ?? '') + text;
          run.messages.push({ role: 'user', content: 'Continue exactly where you stopped.' });
        } // pause_turn: the paused assistant message goes back as it is and the model carries on
        await save();
        break;
      case 'refused':
        return fail(new ModelRefusalError(`the model refused run ${runId}`, { details: { runId, turn: run.turns } }));
      case 'compact':
        run.messages.push({ role: 'user', content: 'Continue exactly where you stopped.' });
        await compact(Math.floor((cfg.contextWindow ?? sizer.tokens(body)) * 0.7)); // body.messages has grown
        break;
    }
  }
}

/** The SDK's blocks carry client-side extras (parsed fields, nulls): keep what the API wants sent back. */
function plainBlock(b: AssistantMessage['content'][number]) {
  if (b.type === 'text') return { type: 'text', text: b.text ?? '' };
  // an input that is not an object (malformed: its tool_result says what it was) goes back as {}, which the API takes
  if (b.type === 'tool_use') return { type: 'tool_use', id: b.id, name: b.name, input: isObject(b.input) ? b.input : {} };
  return JSON.parse(JSON.stringify(b));
}

/** A call whose running again costs nothing: to a readOnly tool, or one not dispatched at all (an unknown tool). */
function readsOnly(cfg: LoopConfig, u: ToolUse): boolean {
  const tool = cfg.tools.byName.get(u.name);
  return tool === undefined ? u.name !== HANDOFF_TOOL : tool.spec.readOnly === true;
}

/**
 * A record keyed by tool_use ids without a prototype: V8 keeps it as a hash table. A literal `{}` given a new unique
 * key every turn made a new hidden class per key and slow lookups (6 us a turn in a profile).
 */
function resultsRecord(from?: Record<string, ToolResultBlock>): Record<string, ToolResultBlock> {
  return Object.assign(Object.create(null) as Record<string, ToolResultBlock>, from);
}

const isObject = (x: unknown): x is object => typeof x === 'object' && x !== null && !Array.isArray(x);

async function ensureJournal(ctx: ActorContext): Promise<ActorRef<typeof agentJournal>> {
  const id = journalId(ctx.self.id);
  for (let i = 0; i < 3; i++) {
    const found = await ctx.lookup(id);
    if (found) return found as ActorRef<typeof agentJournal>;
    try {
      return await ctx.spawn(agentJournal, { id, near: ctx.self });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_DUPLICATE_ACTOR_ID') throw err;
    }
  }
  throw new Error(`cannot find or start the journal ${id}`);
}
