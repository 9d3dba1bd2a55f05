import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { parse as parseYaml } from 'yaml';

/** One label matcher of a selector: `kind=~"$kind"` is { label: 'kind', op: '=~', value: '$kind' }. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A series selector in a PromQL expression: the metric name it reads and its label matchers. */
export interface Selector {
  metric: string;
  matchers: Matcher[];
}

/** A PromQL expression and where it came from (for messages that say which panel or rule is wrong). */
export interface Query {
  where: string;
  expr: string;
}

// Grafana's interval variables stand where PromQL wants a duration: give the parser one. Other variables
// ($job, $kind...) only appear inside label-matcher strings, which PromQL takes as they are.
const grafanaDurations = /\$(?:\{__(?:rate_interval|interval|range)\}|__(?:rate_interval|interval|range)\b)/g;

/**
 * The series selectors of a PromQL expression, found with Prometheus's own grammar (the lezer-promql parser its
 * web UI uses), so a function name, a label in `by (...)` or a keyword is never mistaken for a metric.
 * Throws on a syntax error, pointing at it.
 */
export function selectorsOf(expr: string): Selector[] {
  const src = expr.replace(grafanaDurations, '5m');
  const tree = parser.parse(src);
  const found: Selector[] = [];
  let error: number | undefined;
  tree.iterate({
    enter(ref) {
      if (ref.type.isError && error === undefined) error = ref.from;
      if (ref.name === 'VectorSelector') found.push(selector(ref.node, src));
    },
  });
  if (error !== undefined) throw new Error(`PromQL syntax error at ${error}: ${src.slice(0, error)} <here> ${src.slice(error)}`);
  return found;
}

function selector(node: SyntaxNode, src: string): Selector {
  const text = (n: SyntaxNode | null) => (n ? src.slice(n.from, n.to) : '');
  const matchers: Matcher[] = [];
  let metric = text(node.getChild('Identifier'));
  const list = node.getChild('LabelMatchers');
  for (let m = list?.firstChild ?? null; m; m = m.nextSibling) {
    if (m.name === 'QuotedLabelName') {
      metric = unquote(text(m)); // Prometheus 3's {"metric.name"} form
      continue;
    }
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
    const name = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
    const label = name?.name === 'QuotedLabelName' ? unquote(text(name)) : text(name);
    const op = text(m.getChild('MatchOp')) as Matcher['op'];
    const value = unquote(text(m.getChild('StringLiteral')));
    if (label === '__name__' && op === '=') metric = value;
    else matchers.push({ label, op, value });
  }
  if (!metric) throw new Error(`a selector without a metric name: ${text(node)}`);
  return { metric, matchers };
}

/** A PromQL string literal's value ("...", '...' or `...`; the first two with Go-style escapes). */
function unquote(lit: string): string {
  const q = lit[0];
  const body = lit.slice(1, -1);
  if (q === '`') return body;
  return body.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" })[c] ?? `\\${c}`);
}

/** Every PromQL expression of a Grafana dashboard: panel targets (rows included) and query variables. */
export function dashboardQueries(dashboard: any): Query[] {
  const out: Query[] = [];
  const panels = (list: any[] | undefined): void => {
    for (const p of list ?? []) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string') throw new Error(`panel "${p.title}" target ${t.refId}: no expr`);
        out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
      }
      panels(p.panels);
    }
  };
  panels(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    // label_values(selector, label) is Grafana's, not PromQL: its first argument is a selector.
    const m = /^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(q ?? '');
    out.push({ where: `variable $${v.name}`, expr: m ? m[1]! : q });
  }
  return out;
}

/** Every expression of a Prometheus rule file (alerting and recording rules). */
export function ruleQueries(yamlText: string): Query[] {
  const doc = parseYaml(yamlText) as { groups?: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> };
  return (doc.groups ?? []).flatMap((g) => g.rules.map((r) => ({ where: `rule ${g.name}/${r.alert ?? r.record}`, expr: String(r.expr) })));
}
