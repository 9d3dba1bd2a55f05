// The demo's team and workload, shared by `npm run demo` (examples/demo.ts) and `npm start` (the service,
// examples/demo-system.ts): a small agent team on Troupe's local Messages API server (a scripted model; with
// ANTHROPIC_API_KEY set, Claude). The manager decomposes a request into a task graph, researchers, a coder and a
// reviewer on worker threads take the tasks by capability, the reviewer hands a fix to the coder; on the way the
// coder meets a rate limit (429, waited out) and a researcher crashes (restarted by its supervisor, its task retried).
import type { ActorRef, Runtime } from '../index.ts';
import { startPlanner, startQuotaGovernor, type AgentStats, type HandoffRecord, type PlanReport } from '../agents/index.ts';
import { rules, startModelServer, type ModelServer, type RequestView } from '../agents/model-server/index.ts';
import { tasks } from '../tasks/index.ts';
import { coder, library, manager, researcher, reviewer, sandbox } from './team-agents.ts';

export interface DemoTeam {
  model: ModelServer | undefined;
  manager: ActorRef<typeof manager>;
  agents: ActorRef[];
  /** Crashes of supervised agents, as they happen. */
  crashes: string[];
  close(): Promise<void>;
}

const REQUEST = 'Add a token-bucket rate limiter to the billing API';
const PLAN = {
  tasks: [
    { id: 'survey', capability: 'research', task: 'Survey how the billing API is called today' },
    { id: 'prior-art', capability: 'research', task: 'Find prior art for token-bucket limiters' },
    { id: 'implement', capability: 'code', task: 'Implement the limiter in the billing API', dependsOn: ['survey', 'prior-art'] },
    { id: 'review', capability: 'review', task: 'Review the limiter change', dependsOn: ['implement'], priority: 'high' },
  ],
};

/** The scripted model: what each agent "says", a 429 for the coder's first request, a 500 for one researcher's. */
function script() {
  const role = (v: RequestView) => /^You are (?:the |a )?(\w+)/.exec(String(v.request.system ?? ''))?.[1];
  let crashed = false;
  let limited = false;
  return [
    rules.when((v) => role(v) === 'researcher' && v.task.startsWith('Find prior art') && !crashed, () => ((crashed = true), { error: 'api_error' as const })),
    rules.when((v) => role(v) === 'coder' && !limited, () => ((limited = true), { error: 'rate_limit' as const, retryAfterS: 1 })),
    rules.when((v) => role(v) === 'manager' && !v.hasToolResult('plan'), { toolUse: { name: 'plan', input: PLAN } }),
    rules.when((v) => role(v) === 'manager', (v) => {
      const report = JSON.parse(v.toolResults().at(-1)!.content) as PlanReport;
      return { text: `${report.tasks.filter((t) => t.status === 'completed').length}/${report.tasks.length} tasks done; the limiter is in, reviewed, and its burst case fixed.` };
    }),
    rules.when((v) => role(v) === 'researcher', (v) => (v.hasToolResult('search') ? { text: `found ${v.toolResults()[0]!.content}` } : { toolUse: { name: 'search', input: { query: v.task.split('\n')[0] } } })),
    rules.when((v) => role(v) === 'reviewer', { toolUse: { name: 'handoff', input: {
      capability: 'code', objective: 'fix the limiter before it ships', progress: 'reviewed the change: bursts above capacity are not refused',
      decisions: ['keep the token-bucket design'], artifacts: ['billing/limiter.ts'], nextSteps: ['refuse bursts above capacity', 'add a test for it'], reason: 'a fix is needed',
    } } }),
    rules.when((v) => role(v) === 'coder', (v) => {
      const handedOff = v.task.includes('Handed off to you by');
      if (!v.hasToolResult('run_tests')) return { toolUse: { name: 'run_tests', input: { files: handedOff ? ['billing/limiter.test.ts'] : ['billing/limiter.ts', 'billing/limiter.test.ts'] } } };
      return { text: `${handedOff ? 'fixed the burst case' : 'implemented billing/limiter.ts'}: ${v.toolResults().at(-1)!.content}` };
    }),
  ];
}

/** The team under one supervisor (agents on the worker threads), the planner, the governor, the model server. */
export async function demoTeam(runtime: Runtime): Promise<DemoTeam> {
  const real = process.env.ANTHROPIC_API_KEY !== undefined && process.env.ANTHROPIC_API_KEY !== '';
  const model = real ? undefined : await startModelServer({ rules: script(), limits: { requestsPerMinute: 600 } });
  const args = model ? { endpoint: { mode: 'local' as const, baseURL: model.baseURL } } : {};
  await startQuotaGovernor(runtime, { limits: { default: { requestsPerMinute: 300, inputTokensPerMinute: 200_000, outputTokensPerMinute: 40_000 } } });
  await tasks(runtime, { durable: false });
  const crashes: string[] = [];
  runtime.onCrash((c) => crashes.push(`${c.kind} '${c.actorId}' crashed (${c.error.code ?? c.error.name}): ${c.decision}`));
  await runtime.spawn(library, { id: 'library' });
  await runtime.spawn(sandbox, { id: 'sandbox' });
  const members = [['ada', researcher], ['grace', researcher], ['linus', coder], ['barbara', reviewer], ['lead', manager]] as const;
  const team = await runtime.supervise({
    id: 'team', strategy: 'one-for-one', intensity: { maxRestarts: 5, withinMs: 10_000 },
    children: members.map(([id, def]) => ({ id, actor: def as typeof researcher, args })),
  });
  const agents: ActorRef[] = members.map(([id]) => team.ref(id)!);
  return {
    model, manager: team.ref<typeof manager>('lead')!, agents, crashes,
    close: async () => { await model?.close(); },
  };
}

/** The workload: one request through the manager, progress as it goes, then what it cost and what it survived. */
export async function runDemo(runtime: Runtime, team: DemoTeam, out: (line: string) => void, signal?: AbortSignal): Promise<void> {
  out(team.model ? `model    local Messages API server ${team.model.baseURL} (scripted; set ANTHROPIC_API_KEY for Claude)` : 'model    Claude (ANTHROPIC_API_KEY)');
  for (const r of team.agents) out(`agent    ${r.kind} '${r.id}' on thread ${r.node}`);
  let crashesSeen = 0;
  await startPlanner(runtime, {
    onProgress: (line) => {
      for (; crashesSeen < team.crashes.length; crashesSeen++) out(`crash    ${team.crashes[crashesSeen]}`);
      out(`progress ${line}`);
    },
  });
  if (signal?.aborted) return;
  out(`request  ${REQUEST}`);
  const started = Date.now();
  const result = await runtime.ask(team.manager, 'run', { task: REQUEST }, { timeoutMs: 120_000 });
  out(`result   ${result.text} (${Date.now() - started} ms)`);
  let limited = 0;
  for (const r of team.agents) {
    const s = (await runtime.ask(r as never, 'stats' as never)) as AgentStats;
    const tokens = Object.values(s.byModel).reduce((a, m) => ({ input: a.input + m.input, output: a.output + m.output }), { input: 0, output: 0 });
    limited += s.failures['rate-limited'] ?? 0;
    const extra = [
      ...Object.entries(s.failures).map(([c, n]) => `${c} ${n}`),
      ...(s.handoffs.sent ? [`handed off ${s.handoffs.sent}`] : []), ...(s.handoffs.received ? [`received ${s.handoffs.received} handoff`] : []),
    ];
    for (const h of (await runtime.ask(r as never, 'handoffs' as never)) as HandoffRecord[]) {
      if (h.direction === 'sent') out(`handoff  ${r.kind} '${r.id}' handed its task to ${h.peer.kind} '${h.peer.id}' (${h.capability}): ${h.objective}`);
    }
    out(`usage    ${r.kind} '${r.id}': ${s.runs} runs, ${s.turns} turns, ${tokens.input} in / ${tokens.output} out tokens, $${s.costUsd.toFixed(4)}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  for (; crashesSeen < team.crashes.length; crashesSeen++) out(`crash    ${team.crashes[crashesSeen]}`);
  out(`recovered ${limited} rate limit(s) waited out, ${team.crashes.length} crash(es) restarted by the supervisor and retried by the task graph`);
  const stats = await runtime.stats();
  for (const n of stats.nodes) out(`thread ${n.node}: ${n.actorCount} actors, utilization ${(n.eventLoopUtilization * 100).toFixed(1)}%`);
  out(`dead letters: ${JSON.stringify(stats.deadLetters)}`);
}
