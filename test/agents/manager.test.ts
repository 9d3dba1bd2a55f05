import { describe, expect, it } from 'vitest';
import { rules, type RequestView } from '../../agents/model-server/index.ts';
import { startPlanner, taskPlanner, type PlanReport } from '../../agents/index.ts';
import { tasks } from '../../tasks/index.ts';
import { codeWorker, manager, researchWorker, reviewWorker } from './fixtures/team.ts';
import { setup } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });
const isManager = (v: RequestView) => v.request.system === 'You are a manager.';
const goodPlan = {
  tasks: [
    { id: 'facts', capability: 'research', task: 'collect facts about parsers' },
    { id: 'prior', capability: 'research', task: 'find prior art' },
    { id: 'impl', capability: 'code', task: 'write the parser', dependsOn: ['facts', 'prior'] },
    { id: 'check', capability: 'review', task: 'review the parser', dependsOn: ['impl'], priority: 'high' },
  ],
};
/** The manager's last answer: every task's agent and text from the plan tool's result. */
const aggregate = (v: RequestView) => {
  const report = JSON.parse(v.toolResults().filter((r) => r.name === 'plan' && !r.isError).at(-1)!.content) as PlanReport;
  return `${report.status}: ${report.tasks.map((t) => `${t.id}@${t.agent?.split('-')[0]}[${t.attempts}]=${t.text}`).join(' | ')}`;
};
/** A worker's answer says which results of its dependencies it saw. */
const workerAnswer = (v: RequestView) => {
  const seen = ['facts', 'prior', 'impl'].filter((id) => v.task.includes(`- ${id}: `));
  return { text: `${v.request.system} on '${v.task.split('\n')[0]}'${seen.length ? ` after ${seen.join('+')}` : ''}` };
};

async function team(runtime: import('../../runtime/index.ts').Runtime, baseURL: string) {
  await tasks(runtime, { durable: false });
  const progress: string[] = [];
  await startPlanner(runtime, { onProgress: (line) => progress.push(line) });
  for (const [i, def] of [researchWorker, researchWorker, codeWorker, reviewWorker].entries()) {
    await runtime.spawn(def, { id: `${def.kind.split('.')[1].split('-')[0]}-${i}`, pin: 1 + (i % 2), args: local(baseURL) });
  }
  const boss = await runtime.spawn(manager, { id: 'boss', pin: 1, args: local(baseURL) });
  return { boss, progress };
}

describe('a manager agent decomposes work into a task graph of agents', { timeout: 60_000 }, () => {
  it('plans tasks with dependencies, they route by capability to agents on workers, it aggregates the results', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => isManager(v) && !v.hasToolResult('plan'), { toolUse: { name: 'plan', input: goodPlan } }),
        rules.when(isManager, (v) => ({ text: aggregate(v) })),
        rules.when(() => true, workerAnswer),
      ],
    });
    const { boss, progress } = await team(runtime, model.baseURL);
    const result = await runtime.ask(boss, 'run', { task: 'build a parser' }, { timeoutMs: 45_000 });
    expect(result.turns).toBe(2);
    expect(result.text).toBe([
      "completed: facts@research[1]=You do research. on 'collect facts about parsers'",
      "prior@research[1]=You do research. on 'find prior art'",
      "impl@code[1]=You do code. on 'write the parser' after facts+prior",
      "check@review[1]=You do review. on 'review the parser' after impl",
    ].join(' | '));
    expect(progress).toContain('task check (review) completed');
    // every task's first attempt is told, the ones that start at once too (followed before the graph is submitted)
    for (const t of ['facts (research)', 'prior (research)', 'impl (code)', 'check (review)']) expect(progress).toContain(`task ${t} started, attempt 1`);
    expect(progress).toContain('task impl (code) ready: its dependencies are done');
    // the graph is in the task service, named after the tool call
    const graphs = Object.keys(await (await tasks(runtime)).graphs());
    expect(graphs).toHaveLength(1);
    expect(graphs[0]).toMatch(/^plan~boss:1:/);
    // each worker's run is in its own state: the task's runId is the attempt's message id
    const impl = await runtime.ask(await runtime.lookup('code-2') as never, 'stats' as never) as { runs: number };
    expect(impl.runs).toBe(1);
  });

  it('bad plans go back to the model as errors (unknown capability, a cycle), then a good plan runs; a crashing agent is retried', async () => {
    let codeRequests = 0;
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => isManager(v) && v.toolResults().length === 0, { toolUse: { name: 'plan', input: { tasks: [{ id: 'x', capability: 'nobody', task: 'nothing' }] } } }),
        rules.when((v) => isManager(v) && v.toolResults().length === 1, {
          toolUse: { name: 'plan', input: { tasks: [{ id: 'a', capability: 'research', task: 'a', dependsOn: ['b'] }, { id: 'b', capability: 'research', task: 'b', dependsOn: ['a'] }] } },
        }),
        rules.when((v) => isManager(v) && v.toolResults().length === 2, { toolUse: { name: 'plan', input: goodPlan } }),
        rules.when(isManager, (v) => ({ text: `${v.toolResults().map((r) => (r.isError ? r.content.split(': ')[1] : 'ok')).join(', ')} -> ${aggregate(v)}` })),
        // the coder's first request fails with a 500: its run crashes (no transient retries), the graph retries the task
        rules.when((v) => v.request.system === 'You do code.' && codeRequests++ === 0, { error: 'api_error' }),
        rules.when(() => true, workerAnswer),
      ],
    });
    const { boss, progress } = await team(runtime, model.baseURL);
    const result = await runtime.ask(boss, 'run', { task: 'build a parser' }, { timeoutMs: 45_000 });
    expect(result.text.split(' -> ')[0]).toBe('ERR_UNKNOWN_CAPABILITY, ERR_TASK_DEADLOCK, ok');
    expect(result.text).toContain("impl@code[2]=You do code. on 'write the parser' after facts+prior");
    expect(result.text.startsWith('ERR_UNKNOWN_CAPABILITY, ERR_TASK_DEADLOCK, ok -> completed: ')).toBe(true);
    expect(progress.some((l) => /^task impl \(code\) attempt 1 failed \(ERR_ACTOR_CRASHED\): retrying$/.test(l))).toBe(true);
    const crashed = (await runtime.metricsSnapshot()).threads.reduce((n, t) => n + (t.kinds['test.code-worker']?.crashed ?? 0), 0);
    expect(crashed).toBe(1); // the coder's run crashed once (the actor kept running: the retry went to it again)
    expect(codeRequests).toBe(2);
  });

  it('a planner not started with startPlanner (spawned on a worker) refuses a plan by name: ERR_INVALID_PLAN', async () => {
    const { runtime } = await setup({ rules: [] }, { governor: false });
    const rogue = await runtime.spawn(taskPlanner, { id: 'rogue-planner', pin: 1 });
    const call = { input: { tasks: [{ id: 'one', capability: 'research', task: 'anything' }] }, idempotencyKey: 'k1', toolUseId: 'tu1', agentId: 'nobody', turn: 1 };
    const err = await runtime.ask(rogue, 'plan', call, { timeoutMs: 20_000 }).catch((e) => e);
    expect((err.code === 'ERR_INVALID_PLAN' ? err : err.cause)?.code).toBe('ERR_INVALID_PLAN');
  });
});
