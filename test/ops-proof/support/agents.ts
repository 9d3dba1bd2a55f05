// Agents for the ops-proof service (startService({ agents: true })): a scout that meets a rate limit and hands its
// task to a fixer, both metered by agent id, on the service's main thread, against a local Messages API server.
// One run of the scout puts every troupe_agent_* family the dashboard's Agents row reads into /metrics.
import { defineAgent } from '../../../agents/index.ts';
import { rules, startModelServer } from '../../../agents/model-server/index.ts';
import { readAgentMeter } from '../../../agents/meter.ts';
import type { Runtime } from '../../../runtime/index.ts';
import { until } from './ports.ts';

export const scout = defineAgent({
  kind: 'ops-scout', model: 'claude-haiku-4-5', system: 'You are a scout.', stream: false,
  handoff: { capabilities: ['ops-fix'] }, metrics: { perAgent: true },
});

export const fixer = defineAgent({
  kind: 'ops-fixer', model: 'claude-opus-4-5', system: 'You are a fixer.', capabilities: ['ops-fix'], stream: false,
  metrics: { perAgent: true },
});

/** The agents up, one scout run done (a 429 waited out, a handoff to the fixer); resolves with the close. */
export async function agentTraffic(runtime: Runtime): Promise<() => Promise<void>> {
  let limited = false;
  const model = await startModelServer({
    rules: [
      rules.when(() => !limited, () => ((limited = true), { error: 'rate_limit' as const, retryAfterS: 0 })),
      rules.when((v) => v.request.system === 'You are a scout.', { toolUse: { name: 'handoff', input: { capability: 'ops-fix', objective: 'fix it', progress: 'found it', nextSteps: ['fix'] } } }),
      rules.answer('fixed'),
    ],
  });
  const args = { endpoint: { mode: 'local' as const, baseURL: model.baseURL }, governor: false as const };
  try {
    const s = await runtime.spawn(scout, { id: 'scout-1', pin: 0, args });
    await runtime.spawn(fixer, { id: 'fixer-1', pin: 0, args });
    const r = await runtime.ask(s, 'run', { task: 'find and fix' }, { timeoutMs: 30_000 });
    if (r.stopReason !== 'handoff' || r.failures['rate-limited'] !== 1) throw new Error(`unexpected scout run: ${JSON.stringify(r)}`);
    // Runs report to the meter by a tell as they end: both are counted before /metrics is read.
    await until('both agent runs metered', async () => (await readAgentMeter(runtime)).filter((e) => e.family === 'runs').length === 2, 10_000, 20);
  } catch (e) {
    await model.close();
    throw e;
  }
  return () => model.close();
}
