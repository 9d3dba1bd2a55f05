import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelValues, parseExposition, type Exposition } from './support/exposition.ts';
import { dashboardQueries, ruleQueries, selectorsOf, type Query } from './support/promql.ts';
import { startService, type Service } from './support/service.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const queries: Query[] = [
  ...dashboardQueries(JSON.parse(readFileSync(join(root, 'ops/dashboards/troupe-overview.json'), 'utf8'))),
  ...ruleQueries(readFileSync(join(root, 'ops/alerts/troupe-rules.yml'), 'utf8')),
];
/** Labels Prometheus attaches to every scraped series itself: never in /metrics. */
const targetLabels = new Set(['job', 'instance']);

/** The metric names agreed with the ops server (docs/ops-proof.md); histograms appear as _bucket/_sum/_count. */
const agreed = {
  counter: ['troupe_messages_handled_total', 'troupe_restarts_total', 'troupe_circuit_transitions_total', 'troupe_dead_letters_total', 'troupe_asks_total', 'troupe_ask_timeouts_total', 'troupe_threads_lost_total'],
  gauge: ['troupe_mailbox_depth', 'troupe_actors', 'troupe_circuit_state', 'troupe_journal_depth', 'troupe_worker_event_loop_utilization', 'troupe_worker_heap_used_bytes', 'troupe_up'],
  histogram: ['troupe_message_handling_seconds'],
};

describe('every metric the dashboard and the alert rules use is in a live /metrics (a service with LLM agents for the Agents row)', () => {
  let service: Service;
  let exp: Exposition;

  beforeAll(async () => {
    service = await startService({ agents: true });
    await service.traffic();
    await service.agentTraffic();
    await service.crash();
    await service.openCircuit();
    exp = parseExposition(await service.get('/metrics'));
  });
  afterAll(async () => {
    await service?.close();
  });

  it('the service exports the agreed troupe_ metrics with their types, and prom-client defaults', () => {
    for (const [type, names] of Object.entries(agreed)) {
      for (const name of names) expect(exp.types.get(name), `# TYPE of ${name}`).toBe(type);
    }
    for (const name of agreed.histogram) for (const suffix of ['_bucket', '_sum', '_count']) expect(exp.names, name + suffix).toContain(name + suffix);
    expect(exp.names).toContain('process_resident_memory_bytes');
    expect(exp.samples.find((s) => s.name === 'troupe_up')?.value).toBe(1);
  });

  it('every selector names a sample of /metrics', () => {
    const missing: string[] = [];
    for (const q of queries) {
      for (const s of selectorsOf(q.expr)) if (!exp.names.has(s.metric)) missing.push(`${q.where}: ${s.metric}`);
    }
    expect(missing).toEqual([]);
  });

  it('every label a selector matches on is a label of that metric, and every exact value one it takes', () => {
    const wrong: string[] = [];
    for (const q of queries) {
      for (const s of selectorsOf(q.expr)) {
        const values = labelValues(exp, s.metric);
        for (const m of s.matchers) {
          if (targetLabels.has(m.label)) continue;
          if (!values.has(m.label)) wrong.push(`${q.where}: ${s.metric} has no label ${m.label} (has ${[...values.keys()].join(', ')})`);
          else if ((m.op === '=' || m.op === '!=') && !values.get(m.label)!.has(m.value)) {
            wrong.push(`${q.where}: ${s.metric}{${m.label}} never is "${m.value}" (seen: ${[...values.get(m.label)!].join(', ')})`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the agent run shows in the Agents row\'s metrics: the 429 by class, the handoff, tokens, cost by agent id, call durations', () => {
    const sample = (name: string, labels: Record<string, string>) =>
      exp.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(exp.types.get('troupe_agent_operation_duration_seconds')).toBe('histogram');
    expect(sample('troupe_agent_failures_total', { kind: 'ops-scout', class: 'rate-limited' })?.value).toBe(1);
    expect(sample('troupe_agent_runs_total', { kind: 'ops-scout', outcome: 'handed_off' })?.value).toBe(1);
    expect(sample('troupe_agent_handoffs_total', { kind: 'ops-fixer', outcome: 'received' })?.value).toBe(1);
    expect(sample('troupe_agent_tokens_total', { kind: 'ops-fixer', model: 'claude-opus-4-5', type: 'input' })?.value).toBeGreaterThan(0);
    expect(sample('troupe_agent_by_id_cost_usd_total', { kind: 'ops-fixer', agent: 'fixer-1', model: 'claude-opus-4-5' })?.value).toBeGreaterThan(0);
    expect(sample('troupe_agent_operation_duration_seconds_count', { kind: 'ops-scout', model: 'claude-haiku-4-5' })?.value).toBe(1);
  });

  it('the crash and the open circuit show in the metrics the alerts read', () => {
    const sample = (name: string, labels: Record<string, string>) =>
      exp.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(sample('troupe_restarts_total', { kind: 'flaky' })?.value).toBeGreaterThanOrEqual(2);
    expect(sample('troupe_circuit_state', { kind: 'flaky', state: 'open' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('troupe_circuit_transitions_total', { kind: 'flaky', to: 'open' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('troupe_dead_letters_total', { reason: 'circuit-open' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('troupe_ask_timeouts_total', {})?.value).toBeGreaterThanOrEqual(1);
    const failed = exp.samples.filter((s) => s.name === 'troupe_messages_handled_total' && s.labels.kind === 'flaky' && s.labels.outcome !== 'ok');
    expect(failed.reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(3);
  });
});
