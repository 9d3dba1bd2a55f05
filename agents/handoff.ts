/**
 * Handoff, the acting part: when the model calls the `handoff` tool, find a live agent offering the capability
 * (through the router's discovery), record the handoff in the run's journal, and ask the receiver to run the task
 * from the transferred context. The receiver's answer ends the sender's run. When it cannot go ahead (bad input,
 * no agent offers the capability, the receiver's run failed), the model gets an is_error tool_result naming the
 * error and the sender keeps its task.
 */
import type { ActorContext } from '../actors/context.ts';
import { HandoffFailedError, HandoffTargetNotFoundError, InvalidHandoffError } from './errors.ts';
import { chooseReceiver, filterConversation, handoffProblem, type HandoffContext, type HandoffInput, type HandoffOptions } from './policy/handoff.ts';
import type { RunState, ToolResultBlock, ToolUse } from './run-state.ts';
import type { ValidateFunction } from 'ajv';

/** A handoff in flight, as the journal keeps it: after a crash the same receiver is asked for the same run. */
export interface HandoffInFlight {
  toolUseId: string;
  to: { id: string; kind: string; node: number };
  receiverRunId: string;
  context: HandoffContext;
}

export type HandoffOutcome =
  | { kind: 'done'; text: string; to: HandoffInFlight['to']; receiverRunId: string }
  | { kind: 'refused'; block: ToolResultBlock; code: string };

export interface HandoffEnv {
  ctx: ActorContext;
  agentKind: string;
  options: HandoffOptions;
  validate: ValidateFunction;
  run: RunState;
  /** Save the run (journal) before the receiver is asked. */
  save(): Promise<void>;
}

const refused = (use: ToolUse, err: Error & { code: string }): HandoffOutcome => ({
  kind: 'refused', code: err.code, block: { type: 'tool_result', tool_use_id: use.id, content: `${err.code}: ${err.message}. The task is still yours.`, is_error: true },
});

export async function handOff(env: HandoffEnv, use: ToolUse): Promise<HandoffOutcome> {
  const { ctx, run } = env;
  let flight = run.handoff;
  if (!flight) {
    if (!env.validate(use.input)) {
      const why = (env.validate.errors ?? []).map((e) => `${e.instancePath || '(input)'} ${e.message}`).join('; ');
      return refused(use, new InvalidHandoffError(`invalid handoff input: ${why}`));
    }
    const input = use.input as HandoffInput;
    const chain = run.chain ?? [];
    const problem = handoffProblem(input, env.options, chain);
    if (problem) return refused(use, new InvalidHandoffError(problem));
    const to = chooseReceiver(ctx.find({ capability: input.capability }), ctx.self.id, chain);
    if (!to) {
      return refused(use, new HandoffTargetNotFoundError(`no other live agent offers capability '${input.capability}'`, { details: { capability: input.capability } }));
    }
    const context: HandoffContext = {
      from: { id: ctx.self.id, kind: env.agentKind }, runId: run.runId, task: run.task, capability: input.capability,
      objective: input.objective, progress: input.progress, decisions: input.decisions ?? [], artifacts: input.artifacts ?? [],
      nextSteps: input.nextSteps, ...(input.reason ? { reason: input.reason } : {}),
      conversation: filterConversation(run.messages, env.options), chain: [...chain, ctx.self.id], at: Date.now(),
    };
    flight = { toolUseId: use.id, to: { id: to.id, kind: to.kind, node: to.node }, receiverRunId: `${run.runId}>${to.id}`, context };
    run.handoff = flight;
    await env.save(); // from here on a resumed run asks the same receiver for the same run
  }
  try {
    const reply = (await ctx.ask(flight.to as never, 'run' as never, { task: run.task, runId: flight.receiverRunId, handoff: flight.context } as never, { timeoutMs: env.options.timeoutMs ?? 600_000 } as never)) as { text: string };
    return { kind: 'done', text: reply.text, to: flight.to, receiverRunId: flight.receiverRunId };
  } catch (e) {
    run.handoff = undefined;
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return refused(use, new HandoffFailedError(`the handoff to '${flight.to.id}' failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}`, { details: { to: flight.to.id } }));
  }
}
