import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { findBinary, missingBinaries, skipReason } from './support/binaries.ts';
import { dashboardQueries, ruleQueries, selectorsOf } from './support/promql.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const rulesPath = join(root, 'ops/alerts/troupe-rules.yml');
const rulesTestPath = join(root, 'ops/alerts/troupe-rules.test.yml');
const dashboard = JSON.parse(readFileSync(join(root, 'ops/dashboards/troupe-overview.json'), 'utf8'));
const noPromtool = missingBinaries('prometheus', ['promtool']);

describe('the PromQL selector extractor', () => {
  it('finds metric names and matchers, not functions, aggregation labels or keywords', () => {
    const got = selectorsOf(
      'histogram_quantile(0.99, sum by (le, kind) (rate(troupe_x_seconds_bucket{kind=~"$kind", outcome!="ok"}[$__rate_interval])))' +
        ' / on (kind) group_left sum without (instance) (troupe_y offset 5m) and ignoring (le) {__name__="troupe_z", a=\'b\'}',
    );
    expect(got).toEqual([
      { metric: 'troupe_x_seconds_bucket', matchers: [{ label: 'kind', op: '=~', value: '$kind' }, { label: 'outcome', op: '!=', value: 'ok' }] },
      { metric: 'troupe_y', matchers: [] },
      { metric: 'troupe_z', matchers: [{ label: 'a', op: '=', value: 'b' }] },
    ]);
  });

  it('rejects what Prometheus would reject', () => {
    expect(() => selectorsOf('sum(rate(troupe_x[5m])')).toThrow(/syntax error/);
    expect(() => selectorsOf('rate(troupe_x[$kind])')).toThrow(/syntax error/);
    expect(() => selectorsOf('{job="x"}')).toThrow(/without a metric name/);
  });
});

describe('the harness', () => {
  it('finds binaries on PATH and says what to install when one is missing', () => {
    expect(findBinary('node') ?? findBinary(process.execPath)).toBeTruthy();
    expect(skipReason('node', [process.execPath])).toBeUndefined();
    expect(skipReason('troupe-nothing', ['troupe-no-such-binary'])).toBe(
      "SKIPPED: troupe-no-such-binary not found on PATH: install Debian's troupe-nothing (apt-get install -y troupe-nothing; .ci/run does it)",
    );
  });
});

describe('alert rules (ops/alerts/troupe-rules.yml)', () => {
  const rules = parseYaml(readFileSync(rulesPath, 'utf8')) as { groups: Array<{ rules: any[] }> };
  const alerts = rules.groups.flatMap((g) => g.rules);

  it.skipIf(noPromtool)('pass promtool check rules', async () => {
    const { stdout } = await run(findBinary('promtool')!, ['check', 'rules', rulesPath]);
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it.skipIf(noPromtool)('fire and stay quiet as their unit tests say (promtool test rules)', async () => {
    const { stdout } = await run(findBinary('promtool')!, ['test', 'rules', rulesTestPath]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it('cover the issue\'s cases, each with for:, a severity and a summary and description', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of ['TroupeHighErrorRate', 'TroupeCircuitOpen', 'TroupeRestartStorm', 'TroupeMailboxBacklog', 'TroupeThreadLost']) expect(names).toContain(name);
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
    }
  });

  it('every alert has a unit test', () => {
    const tested = new Set((parseYaml(readFileSync(rulesTestPath, 'utf8')) as any).tests.flatMap((t: any) => t.alert_rule_test.map((r: any) => r.alertname)));
    expect([...tested].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });
});

describe('Grafana dashboard (ops/dashboards/troupe-overview.json)', () => {
  const panels = (dashboard.panels as any[]).filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => p.targets.map((t: any) => t.expr as string)).join('\n');

  it('is an importable dashboard: a uid, unique panel ids, panels inside the 24-column grid, a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('troupe-overview');
    const ids = (dashboard.panels as any[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.find((v: any) => v.type === 'datasource')?.query).toBe('prometheus');
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets.length, p.title).toBeGreaterThan(0);
    }
  });

  it('shows what the issue lists: throughput, error rate, latency quantiles, mailbox depth, circuits, restarts, dead letters, event-loop utilization, lost threads', () => {
    expect(exprs).toMatch(/rate\(troupe_messages_handled_total\{/);
    expect(exprs).toMatch(/outcome!="ok"/);
    for (const q of ['0.5', '0.9', '0.99']) expect(exprs).toContain(`histogram_quantile(${q}, sum by (le) (rate(troupe_message_handling_seconds_bucket`);
    for (const m of ['troupe_mailbox_depth', 'troupe_circuit_state', 'troupe_restarts_total', 'troupe_dead_letters_total', 'troupe_worker_event_loop_utilization', 'troupe_threads_lost_total']) {
      expect(exprs).toContain(m);
    }
  });

  it('every query and variable parses as PromQL and filters on the job and instance variables', () => {
    const queries = [...dashboardQueries(dashboard), ...ruleQueries(readFileSync(rulesPath, 'utf8'))];
    expect(queries.length).toBeGreaterThan(30);
    for (const q of queries) {
      const selectors = selectorsOf(q.expr);
      expect(selectors.length, q.where).toBeGreaterThan(0);
      if (!q.where.startsWith('panel')) continue;
      for (const s of selectors) {
        expect(s.matchers, `${q.where}: ${s.metric}`).toContainEqual({ label: 'job', op: '=~', value: '$job' });
        expect(s.matchers, `${q.where}: ${s.metric}`).toContainEqual({ label: 'instance', op: '=~', value: '$instance' });
      }
    }
  });
});
