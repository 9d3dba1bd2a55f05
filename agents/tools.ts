/**
 * Tools: declared with a JSON Schema, validated with ajv before dispatch, and answered by an actor named by ref,
 * by id, or by capability (through the router: `ctx.ask({ capability }, type, payload, { timeoutMs })`).
 * Whatever goes wrong with one call (an unknown tool, input that fails the schema, a tool actor that crashes or
 * times out) becomes an is_error tool_result for the model, not a crash of the agent.
 */
import { Ajv, type ValidateFunction } from 'ajv';
// Tools named by capability are asked through the router, which must be installed on every thread agents run on.
import '../router/index.ts';
import type { ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import { handlerTime } from '../runtime/extensions.ts';
import { InvalidAgentDefinitionError, InvalidToolSchemaError } from './errors.ts';
import type { ToolResultBlock, ToolUse } from './run-state.ts';
import { compileZodSchema, isZodSchema, type ZodLikeSchema } from './zod-schema.ts';

export interface ToolSpec {
  name: string;
  description?: string;
  /** A JSON Schema of type 'object', or a zod object schema (with zod 4 installed: agents/zod-schema.ts). */
  input_schema: Record<string, unknown> | ZodLikeSchema;
  /** The actor that answers: a ref or an actor id... */
  actor?: ActorRef | string;
  /** ...or any actor with this capability (through the router). */
  capability?: string;
  /** Message type sent to it (default: the tool's name). */
  message?: string;
  /** 'call' (default) sends a ToolCall with an idempotency key; 'input' sends the bare input. */
  pass?: 'call' | 'input';
  /** Per call (default 30 s). */
  timeoutMs?: number;
  /**
   * The tool only reads (a search, a lookup): a durable agent runs it while the response that asked for it is being
   * committed instead of after (a crash before that commit asks the model again, and the tool runs again). Default
   * false: a tool runs only once the response is on disk, so a call the agent forgets never ran.
   */
  readOnly?: boolean;
}

/** What a tool actor receives with pass: 'call'. `idempotencyKey` is the same for a retry of the same call. */
export interface ToolCall<I = unknown> {
  input: I;
  idempotencyKey: string;
  toolUseId: string;
  agentId: string;
  turn: number;
}

/** What a tool actor answers to report an error to the model (an is_error tool_result) without crashing. */
export interface ToolError {
  toolError: string;
}

export function toolError(message: string): ToolError {
  return { toolError: message };
}

const isToolError = (x: unknown): x is ToolError => typeof x === 'object' && x !== null && typeof (x as ToolError).toolError === 'string' && Object.keys(x).length === 1;

export interface CompiledTools {
  /** As the Messages API wants them. */
  api: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  byName: Map<string, { spec: ToolSpec; validate: ValidateFunction }>;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function compileTools(kind: string, tools: ToolSpec[] = []): CompiledTools {
  if (!Array.isArray(tools)) throw new InvalidAgentDefinitionError(`${kind}: tools must be an array`);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const byName = new Map<string, { spec: ToolSpec; validate: ValidateFunction }>();
  const api: CompiledTools['api'] = [];
  for (const t of tools) {
    if (typeof t?.name !== 'string' || !TOOL_NAME.test(t.name)) throw new InvalidAgentDefinitionError(`${kind}: tool name ${JSON.stringify(t?.name)} must match ${TOOL_NAME}`);
    if (byName.has(t.name)) throw new InvalidAgentDefinitionError(`${kind}: two tools named '${t.name}'`);
    if ((t.actor === undefined) === (t.capability === undefined)) throw new InvalidAgentDefinitionError(`${kind}: tool '${t.name}' must name exactly one of actor or capability`);
    if (t.actor !== undefined && typeof t.actor !== 'string' && typeof t.actor?.id !== 'string') throw new InvalidAgentDefinitionError(`${kind}: tool '${t.name}': actor must be a ref or an actor id`);
    if (t.pass !== undefined && t.pass !== 'call' && t.pass !== 'input') throw new InvalidAgentDefinitionError(`${kind}: tool '${t.name}': pass must be 'call' or 'input'`);
    if (t.readOnly !== undefined && typeof t.readOnly !== 'boolean') throw new InvalidAgentDefinitionError(`${kind}: tool '${t.name}': readOnly must be a boolean`);
    const { jsonSchema, validate } = isZodSchema(t.input_schema) ? compileZodSchema(`${kind}: tool '${t.name}'`, t.input_schema) : compileJsonSchema(ajv, `${kind}: tool '${t.name}'`, t.input_schema);
    byName.set(t.name, { spec: t, validate });
    api.push({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: jsonSchema });
  }
  return { api, byName };
}

function compileJsonSchema(ajv: Ajv, where: string, schema: unknown): { jsonSchema: Record<string, unknown>; validate: ValidateFunction } {
  if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'object') {
    throw new InvalidToolSchemaError(`${where}: input_schema must be a JSON Schema object with type 'object' (or a zod object schema)`);
  }
  try {
    return { jsonSchema: schema as Record<string, unknown>, validate: ajv.compile(schema) };
  } catch (err) {
    throw new InvalidToolSchemaError(`${where}: input_schema is not valid JSON Schema: ${(err as Error).message}`, { cause: err });
  }
}

export function idempotencyKey(agentId: string, turn: number, toolUseId: string): string {
  return `${agentId}:${turn}:${toolUseId}`;
}

/** Run one tool call and turn whatever happens into a tool_result block. */
export async function runTool(ctx: ActorContext, tools: CompiledTools, use: ToolUse, turn: number): Promise<ToolResultBlock> {
  const err = (content: string): ToolResultBlock => ({ type: 'tool_result', tool_use_id: use.id, content, is_error: true });
  const tool = tools.byName.get(use.name);
  if (!tool) return err(`unknown tool '${use.name}' (available: ${[...tools.byName.keys()].join(', ') || 'none'})`);
  const sent = (json: string) => (json.length > 300 ? `${json.slice(0, 300)}...` : json);
  if (use.invalidInput) return err(`invalid input for tool '${use.name}': not valid JSON (${use.invalidInput.error}): ${sent(use.invalidInput.json)}`);
  if (!tool.validate(use.input)) {
    const why = (tool.validate.errors ?? []).map((e) => `${e.instancePath || '(input)'} ${e.message}`).join('; ');
    const what = typeof use.input === 'object' && use.input !== null && !Array.isArray(use.input) ? '' : `; the input was ${sent(JSON.stringify(use.input) ?? 'undefined')}`;
    return err(`invalid input for tool '${use.name}': ${why}${what}`);
  }
  const { spec } = tool;
  const type = spec.message ?? spec.name;
  const payload: unknown = spec.pass === 'input' ? use.input : ({ input: use.input, idempotencyKey: idempotencyKey(ctx.self.id, turn, use.id), toolUseId: use.id, agentId: ctx.self.id, turn } satisfies ToolCall);
  const options = { timeoutMs: spec.timeoutMs ?? 30_000 };
  try {
    const out = await askRoute(ctx, spec, type, payload, options);
    if (isToolError(out)) return err(out.toolError);
    return { type: 'tool_result', tool_use_id: use.id, content: typeof out === 'string' ? out : JSON.stringify(out ?? null) };
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return err(`tool '${use.name}' failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}

type Ask = (target: unknown, type: string, payload: unknown, o: { timeoutMs: number }) => Promise<unknown>;

/**
 * Tool actors named by id, as last found on this thread: a lookup from a worker is a round trip to the main thread,
 * once per tool call before. A ref that went stale (the actor moved with a lost thread, or a runtime started again
 * in this process) answers ERR_ACTOR_NOT_FOUND, which means the call was not delivered: looked up again, sent once more.
 */
const toolRefsByThread = new WeakMap<object, Map<string, ActorRef>>();
const outside = {};

/**
 * The cache of this runtime thread (keyed by its HandlerTime, one object per thread of each runtime): a runtime
 * started after another in one process (two simulations of one seed back to back) starts with none of its refs.
 */
function toolRefsOf(ctx: ActorContext): Map<string, ActorRef> {
  const thread = handlerTime(ctx) ?? outside;
  let refs = toolRefsByThread.get(thread);
  if (refs === undefined) toolRefsByThread.set(thread, (refs = new Map()));
  return refs;
}

async function askRoute(ctx: ActorContext, spec: ToolSpec, type: string, payload: unknown, o: { timeoutMs: number }): Promise<unknown> {
  const ask = ctx.ask.bind(ctx) as unknown as Ask;
  if (spec.capability !== undefined) return ask({ capability: spec.capability }, type, payload, o); // the router's route object
  if (typeof spec.actor !== 'string') return ask(spec.actor!, type, payload, o);
  const id = spec.actor;
  const toolRefs = toolRefsOf(ctx);
  const find = async () => {
    const found = await ctx.lookup(id);
    if (!found) throw new Error(`no running actor with id '${id}'`);
    toolRefs.set(id, found);
    return found;
  };
  const cached = toolRefs.get(id);
  try {
    return await ask(cached ?? (await find()), type, payload, o);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_ACTOR_NOT_FOUND' || code === 'ERR_WORKER_LOST' || code === 'ERR_ACTOR_STOPPED') toolRefs.delete(id);
    if (cached === undefined || code !== 'ERR_ACTOR_NOT_FOUND') throw err;
    return ask(await find(), type, payload, o);
  }
}
