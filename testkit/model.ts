import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import type { EndpointOptions } from '../agents/endpoint.ts';
import type { ModelRequestBody } from '../agents/model-call.ts';
import type { ModelClient, ModelRequestMeta } from '../agents/model-client.ts';
import { promptDigest } from '../agents/model-server/log.ts';
import { ERROR_STATUS, buildMessage, errorBody, errorType, messageEvents } from '../agents/model-server/respond.ts';
import { RequestView, type ErrorKind, type MessagesRequest, type Rule, type ScriptedReply } from '../agents/model-server/script.ts';
import { estimateInputTokens } from '../agents/tokens.ts';
import type { Fault } from './faults.ts';
import type { SeededRandom } from './random.ts';

export type { Rule, ScriptedReply } from '../agents/model-server/script.ts';


export interface SimulatedModelOptions {
  /** Tried in order for each request, the first reply wins: the local model server's script (agents/model-server). */
  rules?: Rule[];
  /** When no rule answers (default: the text "done"). */
  fallback?: ScriptedReply;
  /** Virtual ms every answer takes (default 0), plus up to `jitterMs` drawn from the seed (default 0). */
  latencyMs?: number;
  jitterMs?: number;
  /** Prompts above this many input tokens get the 400 "prompt is too long: N tokens > M maximum". */
  contextWindow?: number;
  /** Characters per streamed delta (default 16). */
  chunkChars?: number;
}

/** One request the simulated model received. `outcome`: 'ok', or the error type it answered with. */
export interface ModelCall {
  index: number;
  agent: string;
  /** The agent's own request number (what a fault with `agent` counts). */
  nth: number;
  at: number;
  stream: boolean;
  outcome: string;
  injected: boolean;
  stopReason?: string;
}

/** What a simulated model needs of its simulation. */
export interface ModelWiring {
  now(): number;
  random: SeededRandom;
  /** The plan's model-error faults. */
  faults: ReadonlyArray<Extract<Fault, { kind: 'model-error' }>>;
  record(what: string, actor: string, detail: string): void;
}

/**
 * The Messages API inside a simulation: agents whose endpoint is `model.endpoint` call it instead of the network
 * (agents/model-client.ts). It answers from a script (the local model server's rules), in virtual time, and fails
 * the calls the fault plan names exactly as the SDK fails them (the SDK's own error classes, with status, headers
 * and the API's error body), so agents classify and recover as they do in production: a 429's retry-after and a
 * 529's backoff are waits on the runtime's (virtual) clock, a timeout costs the endpoint's timeoutMs of virtual
 * time, a prompt too long makes the agent compact. Same seed, same script, same plan: the same answers.
 */
export class SimulatedModel implements ModelClient {
  readonly calls: ModelCall[] = [];
  private readonly perAgent = new Map<string, number>();
  private rules: Rule[];
  private fallback: ScriptedReply;

  constructor(readonly baseURL: string, private readonly wiring: ModelWiring, private readonly options: SimulatedModelOptions = {}) {
    this.rules = options.rules ?? [];
    this.fallback = options.fallback ?? { text: 'done' };
  }

  /** An agent's endpoint option: `spawn(agent, { args: { endpoint: model.endpoint } })`. */
  get endpoint(): EndpointOptions {
    return { mode: 'local', baseURL: this.baseURL };
  }

  /** Replace the script (the call count and the plan carry on). */
  setRules(rules: Rule[], fallback?: ScriptedReply): void {
    this.rules = rules;
    if (fallback !== undefined) this.fallback = fallback;
  }

  async create(body: ModelRequestBody & { stream: boolean }, meta: ModelRequestMeta): Promise<{ data: unknown; headers: Headers | undefined }> {
    const index = this.calls.length + 1;
    const nth = (this.perAgent.get(meta.agent) ?? 0) + 1;
    this.perAgent.set(meta.agent, nth);
    const call: ModelCall = { index, agent: meta.agent, nth, at: this.wiring.now(), stream: body.stream, outcome: 'ok', injected: false };
    this.calls.push(call);
    const requestId = `req_${String(index).padStart(8, '0')}`;
    const headers = new Headers({ 'request-id': requestId });
    const inputTokens = estimateInputTokens(body);
    const latency = (this.options.latencyMs ?? 0) + (this.options.jitterMs ? this.wiring.random.int(this.options.jitterMs + 1) : 0);
    const note = (outcome: string, detail: string) => {
      call.outcome = outcome;
      this.wiring.record('model', meta.agent, `request #${index} (its #${nth}${body.stream ? ', streamed' : ''}): ${detail}`);
    };
    const fault = this.wiring.faults.find((f) => (f.agent === undefined ? f.onCall === index : f.agent === meta.agent && f.onCall === nth));
    let reply: ScriptedReply;
    if (fault !== undefined) {
      call.injected = true;
      if (fault.error === 'timeout') {
        note('timeout', `injected timeout after ${meta.timeoutMs} ms`);
        await meta.sleep(meta.timeoutMs);
        throw new APIConnectionTimeoutError();
      }
      reply = fault.error === 'rate-limit' ? { error: 'rate_limit', ...(fault.retryAfterS !== undefined ? { retryAfterS: fault.retryAfterS } : {}) }
        : fault.error === 'overloaded' ? { error: 'overloaded', inStream: fault.inStream === true }
        : { error: 'invalid_request', message: `prompt is too long: ${inputTokens} tokens > ${Math.max(1, Math.floor(inputTokens * 0.75))} maximum` };
    } else if (this.options.contextWindow !== undefined && inputTokens > this.options.contextWindow) {
      reply = { error: 'invalid_request', message: `prompt is too long: ${inputTokens} tokens > ${this.options.contextWindow} maximum` };
    } else {
      const view = new RequestView(body as unknown as MessagesRequest, index, inputTokens, undefined);
      reply = this.rules.reduce<ScriptedReply | undefined>((r, rule) => r ?? rule(view), undefined) ?? this.fallback;
    }
    const delay = latency + ('delayMs' in reply ? reply.delayMs ?? 0 : 0);
    if (delay > 0) await meta.sleep(delay);
    const injected = fault !== undefined ? ' (injected)' : '';
    if ('hangUp' in reply) {
      note('hang-up', 'connection dropped');
      throw new APIConnectionError({ message: 'Connection error.' });
    }
    if ('error' in reply) return this.fail(reply, body, requestId, headers, inputTokens, (o, d) => note(o, d + injected));
    const message = buildMessage(reply, body.model, inputTokens, body.max_tokens, promptDigest(body.system, body.messages), `msg_${requestId.slice(4)}`);
    call.stopReason = message.stop_reason;
    note('ok', `${message.stop_reason}${message.content.some((b) => b.type === 'tool_use') ? ` (${message.content.filter((b) => b.type === 'tool_use').map((b) => (b as { name: string }).name).join(', ')})` : ''}`);
    if (!body.stream) return { data: message, headers };
    return { data: replay(messageEvents(message, this.options.chunkChars ?? 16)), headers };
  }

  /** An error reply, as the API sends it and the SDK throws it (or, inStream, a 200 whose stream carries the error). */
  private fail(reply: Extract<ScriptedReply, { error: ErrorKind }>, body: { stream: boolean; model: string }, requestId: string, headers: Headers, inputTokens: number, note: (outcome: string, detail: string) => void): { data: unknown; headers: Headers } {
    const type = errorType(reply.error);
    const errBody = errorBody(reply.error, reply.message, requestId);
    if (reply.inStream && body.stream) {
      note(type, `200 whose stream carries an ${type} event`);
      const start = { type: 'message_start', message: { id: `msg_${requestId.slice(4)}`, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } };
      return { data: replay([start], new APIError(undefined, errBody, undefined, headers, type as never)), headers };
    }
    const status = reply.status ?? ERROR_STATUS[reply.error];
    if (reply.retryAfterS !== undefined) headers.set('retry-after', String(reply.retryAfterS));
    note(type, `${status} ${type}${reply.retryAfterS !== undefined ? `, retry-after ${reply.retryAfterS} s` : ''}`);
    throw APIError.generate(status, errBody, undefined, headers);
  }
}

/** Stream events as the SDK's iteration hands them over; `error`: thrown after them (an `error` event). */
async function* replay(events: readonly object[], error?: Error): AsyncGenerator<object> {
  for (const ev of events) yield ev;
  if (error !== undefined) throw error;
}
