/**
 * One model turn: a permit from the quota governor, the Messages API call (streamed or not) on a client with
 * maxRetries 0, the real usage and headers back to the governor, and the recovery decided by class on failure:
 * wait (retry-after however long, or backoff), compact (the caller does it), or fail with a named error.
 * Waits are not crashes: the same turn continues.
 */
import type { ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import { ContextWindowExceededError, ModelRequestRejectedError, ModelUnavailableError } from './errors.ts';
import type { Endpoint } from './endpoint.ts';
import { clientFor } from './endpoint.ts';
import type { ModelClient } from './model-client.ts';
import { handlerTime } from '../runtime/extensions.ts';
import { systemClock } from '../runtime/clock.ts';
import { classifyFailure, type FailureClass } from './policy/classify.ts';
import { REMAINING_HEADERS, type Permit, type PermitDecision } from './policy/quota.ts';
import { decideRecovery, type RecoveryOptions } from './policy/recovery.ts';
import { estimateInputTokens } from './tokens.ts';
import { streamMessage } from './stream.ts';

export interface ModelRequestBody {
  model: string;
  max_tokens: number;
  system?: string;
  tools?: unknown[];
  messages: unknown[];
}

export interface AssistantMessage {
  id: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown; [k: string]: unknown }>;
  stop_reason: string | null;
  model: string;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null };
}

export interface CallEnv {
  ctx: ActorContext;
  endpoint: Endpoint;
  governor: ActorRef | undefined;
  priority: number;
  stream: boolean;
  recovery: RecoveryOptions;
  random: () => number;
  onText: (delta: string) => void;
  onRetry: (what: { class: FailureClass; delayMs: number; attempt: number }) => void;
  /** A failure of this class happened (counted in the run's stats). */
  onFailure: (c: FailureClass) => void;
}

/** `seconds`: the call that answered, request to final message (retries and waits before it not included). */
export type CallOutcome = { kind: 'message'; message: AssistantMessage; seconds: number } | { kind: 'compact'; promptTokens?: number; maxTokens?: number };

const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The call's waits (retry-after, backoff, quota pacing) and its duration, on the runtime's clock (a harness's virtual
 * clock in simulation); on the system clock a plain timer, which keeps the process alive while an agent waits.
 */
function timeOf(ctx: ActorContext): { sleep: (ms: number) => Promise<unknown>; now: () => number } {
  const clock = handlerTime(ctx)?.clock;
  if (clock === undefined || clock === systemClock) return { sleep: realSleep, now: () => performance.now() };
  return { sleep: (ms) => new Promise((r) => clock.setTimer(r as () => void, ms)), now: () => clock.now() };
}

/** `estimate`: the body's input tokens when the caller has them (a run's PromptSizer), else computed here. */
export async function callModel(body: ModelRequestBody, env: CallEnv, compactions: number, estimate = estimateInputTokens(body)): Promise<CallOutcome> {
  const client = clientFor(env.endpoint);
  const time = timeOf(env.ctx);
  let last: FailureClass | undefined;
  let sameClass = 0;
  for (;;) {
    const permit = env.governor ? await acquire(env, estimate, body.max_tokens, time.sleep) : undefined;
    try {
      const t0 = time.now();
      const { message, headers } = await send(client, body, env, time.sleep);
      const seconds = (time.now() - t0) / 1000;
      if (permit) env.ctx.tell(env.governor!, 'settle' as never, { permit, usage: settledUsage(message.usage), headers } as never);
      return { kind: 'message', message, seconds };
    } catch (err) {
      const f = classifyFailure(err);
      env.onFailure(f.class);
      if (permit) {
        const headers = headersOf(err);
        env.ctx.tell(env.governor!, 'failed' as never, { permit, ...(f.class === 'rate-limited' ? { blockMs: f.retryAfterMs ?? 1000 } : {}), ...(headers ? { headers } : {}) } as never);
      }
      sameClass = f.class === last ? sameClass + 1 : 1;
      last = f.class;
      const action = decideRecovery(f, { sameClass, compactions }, env.random, env.recovery);
      if (action.kind === 'wait') {
        env.onRetry({ class: f.class, delayMs: action.delayMs, attempt: sameClass });
        await time.sleep(action.delayMs);
        continue;
      }
      if (action.kind === 'compact') return { kind: 'compact', promptTokens: f.promptTokens, maxTokens: f.maxTokens };
      const details = { class: f.class, status: f.status, type: f.type };
      if (action.reason === 'context-too-long') throw new ContextWindowExceededError(`the conversation does not fit the context window after ${compactions} compaction(s): ${f.message}`, { details });
      if (action.reason === 'fatal') throw new ModelRequestRejectedError(`the model API rejected the request (${f.type ?? f.status}): ${f.message}`, { details });
      throw new ModelUnavailableError(`model call failed ${sameClass} time(s) in a row (${f.class}): ${f.message}`, { details });
    }
  }
}

async function acquire(env: CallEnv, inputTokens: number, maxTokens: number, sleep: (ms: number) => Promise<unknown>): Promise<Permit> {
  for (;;) {
    const d = (await env.ctx.ask(env.governor!, 'acquire' as never, { requester: env.ctx.self.id, key: env.endpoint.keyId, inputTokens, maxTokens, priority: env.priority } as never)) as PermitDecision;
    if (d.granted) return d.permit;
    await sleep(d.waitMs);
  }
}

async function send(client: ModelClient, body: ModelRequestBody, env: CallEnv, sleep: (ms: number) => Promise<unknown>): Promise<{ message: AssistantMessage; headers: Record<string, string> | undefined }> {
  const meta = { agent: env.ctx.self.id, timeoutMs: env.endpoint.timeoutMs, sleep };
  if (!env.stream) {
    const { data, headers } = await client.create({ ...body, stream: false }, meta);
    return { message: data as AssistantMessage, headers: rateHeaders(headers) };
  }
  const { message, headers } = await streamMessage(client, body, meta, env.onText);
  return { message, headers: rateHeaders(headers) };
}

/** What the governor counts of a response's usage: the SDK's has more (nested cache_creation, server_tool_use...). */
function settledUsage(u: AssistantMessage['usage']): AssistantMessage['usage'] {
  return { input_tokens: u.input_tokens, output_tokens: u.output_tokens, cache_read_input_tokens: u.cache_read_input_tokens ?? 0, cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0 };
}

/**
 * The rate-limit headers the governor resynchronises on (QuotaPolicy.resync reads the `-remaining` ones), looked up
 * by name: iterating a fetch Headers sorts and joins all of them, every turn.
 */
function rateHeaders(h: Headers | undefined): Record<string, string> | undefined {
  if (!h) return undefined;
  let out: Record<string, string> | undefined;
  for (const name of REMAINING_HEADERS) {
    const v = h.get(name);
    if (v !== null) (out ??= {})[name] = v;
  }
  return out;
}

function headersOf(err: unknown): Record<string, string> | undefined {
  const h = (err as { headers?: unknown }).headers;
  return h instanceof Headers ? rateHeaders(h) : undefined;
}
