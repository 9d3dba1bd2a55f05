/**
 * The manager agent's side of task graphs. A manager is an agent with the `plan` tool: the model decomposes a
 * request into tasks with dependencies (the tool's JSON schema), the planner actor submits them as a task graph
 * (tasks/), each task goes by capability to an agent that offers it (agents take graph tasks with their 'task'
 * handler), the planner follows the graph's progress and answers the tool call with every task's result.
 *
 * The planner lives on the main thread (pin 0), where the Runtime and its task service are: startPlanner() hands
 * them to it. The graph's id derives from the tool call's idempotency key, so a manager that resumes a run and calls
 * the tool again gets the same graph (its progress, or its results) instead of a second one.
 */
import { defineActor, type ActorRef } from '../actors/define.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { GraphHandle, TaskManagerOptions } from '../tasks/manager.ts';
import type { TaskEvent, TaskOutcome } from '../tasks/types.ts';
import { InvalidPlanError } from './errors.ts';
import { toolError, type ToolCall, type ToolSpec } from './tools.ts';
import type { AgentTaskResult } from './define.ts';

export const PLANNER_ID = 'troupe.agent-planner';

export interface PlannedTask {
  id: string;
  /** Who does it: any live agent offering this capability. */
  capability: string;
  /** What to do, in words: the receiving agent's task. */
  task: string;
  dependsOn?: string[];
  priority?: 'critical' | 'high' | 'medium' | 'low' | 'background';
}

export interface Plan {
  tasks: PlannedTask[];
}

export interface PlanReport {
  graphId: string;
  status: string;
  tasks: Array<{ id: string; capability: string; status: string; attempts: number; agent?: string; text?: string; error?: string }>;
}

export function planSchema(capabilities?: string[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      tasks: {
        type: 'array', minItems: 1, maxItems: 50,
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            capability: capabilities?.length ? { type: 'string', enum: capabilities } : { type: 'string', minLength: 1 },
            task: { type: 'string', minLength: 1 },
            dependsOn: { type: 'array', items: { type: 'string' } },
            priority: { enum: ['critical', 'high', 'medium', 'low', 'background'] },
          },
          required: ['id', 'capability', 'task'],
          additionalProperties: false,
        },
      },
    },
    required: ['tasks'],
    additionalProperties: false,
  };
}

/** The `plan` tool for a manager agent's `tools`. */
export function planTool(o: { capabilities?: string[]; planner?: string; timeoutMs?: number } = {}): ToolSpec {
  return {
    name: 'plan',
    description: 'Decompose the request into tasks with dependencies. Each task goes to an agent offering its capability; a task sees the results of the tasks it depends on. Answers with every task\'s status and result once the plan has run.',
    input_schema: planSchema(o.capabilities),
    actor: o.planner ?? PLANNER_ID,
    timeoutMs: o.timeoutMs ?? 600_000,
  };
}

export interface PlannerOptions {
  id?: string;
  /** Options of the task service if the planner starts it (durable: false when the runtime has no dataDir). */
  tasks?: TaskManagerOptions;
  /** Per graph: retries of a task whose agent crashed (default 3 attempts), ask timeout of one attempt (10 min). */
  retry?: Record<string, unknown> | false;
  taskTimeoutMs?: number;
  /** A line per task transition worth telling (running, completed, retrying, failed...). */
  onProgress?: (line: string, event: TaskEvent) => void;
}

interface Host {
  runtime: Runtime;
  options: PlannerOptions;
}

/** Planners on this thread (the main thread) and what they need that cannot travel in a message. */
const hosts = new Map<string, Host>();

export const taskPlanner = defineActor({
  kind: 'troupe.agent-planner',
  init: () => ({ graphs: [] as string[] }),
  handlers: {
    plan: async (state, call: ToolCall<Plan>, ctx) => {
      const host = hosts.get(ctx.self.id);
      if (!host) throw new InvalidPlanError(`planner '${ctx.self.id}' was not started with startPlanner() on the main thread`);
      const graphId = `plan~${call.idempotencyKey}`;
      // Imported here, on the main thread: the worker threads that load the agent layer need not load tasks/.
      const { tasks: taskService } = await import('../tasks/manager.ts');
      const service = await taskService(host.runtime, host.options.tasks);
      const caps = new Map(call.input.tasks.map((t) => [t.id, t.capability]));
      const deps = new Set(call.input.tasks.filter((t) => t.dependsOn?.length).map((t) => t.id));
      // Followed before it is submitted: a graph starts its first tasks while submit() is still answering, and
      // a handle's on() made after it would miss their 'started' lines.
      const onProgress = host.options.onProgress;
      const off = onProgress
        ? await service.on(graphId, (e) => {
          const line = progressLine(e, caps.get(e.taskId), deps.has(e.taskId));
          if (line !== undefined) onProgress(line, e);
        })
        : undefined;
      let handle: GraphHandle;
      if ((await service.graphs())[graphId]) handle = await service.graph(graphId);
      else {
        try {
          handle = await service.submit({
            id: graphId, deadlock: 'reject', failurePolicy: 'continue-independent',
            retry: host.options.retry ?? { maxAttempts: 3, baseMs: 100, capMs: 2000 }, timeoutMs: host.options.taskTimeoutMs ?? 600_000,
            tasks: call.input.tasks.map((t) => ({
              id: t.id, capability: t.capability, type: 'task', payload: { task: t.task }, dependsOn: t.dependsOn ?? [], ...(t.priority ? { priority: t.priority } : {}),
            })),
          });
        } catch (err) {
          // a plan the task service refuses (unknown capability, dependency, a cycle...): the model hears why
          const e = err as Error & { code?: string };
          await off?.();
          return toolError(`the plan was refused: ${e.code ?? e.name}: ${e.message}`);
        }
        state.graphs.push(graphId);
      }
      const summary = await handle.done().finally(() => off?.());
      return report(graphId, summary.status, await handle.outcomes(), caps);
    },
    graphs: (state) => state.graphs,
  },
});

/** A line per transition worth telling; none for a task's creation or a first readiness that waited on nothing. */
function progressLine(e: TaskEvent, capability: string | undefined, hasDeps: boolean): string | undefined {
  const what = `task ${e.taskId} (${capability ?? '?'})`;
  if (e.to === 'running') return `${what} started, attempt ${e.attempt}`;
  if (e.to === 'completed') return `${what} completed`;
  if (e.to === 'blocked' && e.reason?.code === 'retry-wait') return `${what} attempt ${e.attempt} failed (${e.error?.code ?? e.error?.name ?? 'error'}): retrying`;
  if (e.to === 'blocked' && e.from === 'new') return hasDeps ? `${what} waiting for its dependencies` : undefined;
  if (e.to === 'ready' && (e.from === 'blocked' || e.from === 'new')) {
    if (e.attempt > 0) return `${what} ready for attempt ${e.attempt + 1}`;
    return hasDeps ? `${what} ready: its dependencies are done` : undefined;
  }
  return `${what} ${e.to}${e.reason ? ` (${e.reason.code})` : ''}`;
}

function report(graphId: string, status: string, outcomes: TaskOutcome[], caps: Map<string, string>): PlanReport {
  return {
    graphId, status,
    tasks: outcomes.map((o) => {
      const r = o.result as AgentTaskResult | undefined;
      return {
        id: o.id, capability: caps.get(o.id) ?? '?', status: o.status, attempts: o.attempts,
        ...(r?.agent ? { agent: r.agent } : {}), ...(r?.text !== undefined ? { text: r.text } : {}),
        ...(o.error ? { error: `${o.error.code ?? o.error.name}: ${o.error.message}` } : o.reason ? { error: `${o.reason.code}: ${o.reason.message}` } : {}),
      };
    }),
  };
}

/** Start the planner the `plan` tool reaches, on the main thread (call it on the main thread, before the manager runs). */
export async function startPlanner(runtime: Runtime, options: PlannerOptions = {}): Promise<ActorRef<typeof taskPlanner>> {
  const id = options.id ?? PLANNER_ID;
  hosts.set(id, { runtime, options });
  const found = await runtime.lookup(id);
  if (found) return found as ActorRef<typeof taskPlanner>;
  return runtime.spawn(taskPlanner, { id, pin: 0 });
}
