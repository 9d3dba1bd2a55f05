import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Runtime, RuntimeMetrics } from '../runtime/runtime.ts';
import { DURATION_BUCKETS_MS, type HistogramData } from '../runtime/thread-metrics.ts';
import { MonotonicSum } from './monotonic.ts';
import { DURATION_BUCKETS_S, readAgentMeter, type MeterEntry, type MeterFamily } from '../agents/meter.ts';
import { FAILURE_CLASSES } from '../agents/policy/classify.ts';
import { ROUTER_METRICS } from '../router/metrics.ts';

type Labels = Record<string, string>;
interface Value { metricName?: string; labels: Labels; value: number }
type Type = 'counter' | 'gauge' | 'histogram';

/** Phase on the actor's thread (runtime/cell.ts) -> status label of troupe_actors. */
const STATUS: Record<string, string> = { running: 'running', restarting: 'restarting', open: 'circuit-open', 'half-open': 'half-open', trial: 'half-open' };
/** Phase -> circuit state label of troupe_circuit_state. */
const CIRCUIT: Record<string, string> = { running: 'closed', restarting: 'closed', open: 'open', 'half-open': 'half-open', trial: 'half-open' };
const LE = [...DURATION_BUCKETS_MS.map((ms) => String(ms / 1000)), '+Inf'];
/** A scrape waits this long for the threads; one that is late is left out (its counters keep their last values). */
const SNAPSHOT_DEADLINE_MS = 2000;

/**
 * One prom-client Registry per server. The troupe_ metrics are collected at scrape time: one metrics control request
 * to each thread (runtime.metricsSnapshot), aggregated here; nothing is counted per message on the threads beyond
 * plain numbers (runtime/thread-metrics.ts). Labels are bounded: kind, message type (from the definitions), status, reason, outcome, thread;
 * never an id, except the agent id of troupe_agent_by_id_*, opt-in per agent kind and capped (agents/meter.ts).
 */
export class OpsMetrics {
  readonly registry = new Registry();
  private current: RuntimeMetrics | undefined;
  private inflight: Promise<string> | undefined;
  private readonly counters = new MonotonicSum();
  private totals = new Map<string, number>();
  private agents: MeterEntry[] = [];

  constructor(private readonly runtime: Runtime) {
    collectDefaultMetrics({ register: this.registry });
    const m = (name: string, help: string, type: Type, values: () => Value[]) => {
      this.registry.registerMetric({ name, help, type, get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }) } as never);
    };
    const kinds = () => this.current?.threads.flatMap((t) => Object.entries(t.kinds)) ?? [];
    const gaugeBy = (pick: (add: (labels: Labels, v: number) => void) => void): Value[] => {
      const out = new Map<string, Value>();
      pick((labels, v) => {
        const key = JSON.stringify(labels);
        const cur = out.get(key);
        if (cur === undefined) out.set(key, { labels, value: v });
        else cur.value += v;
      });
      return [...out.values()];
    };

    m('troupe_up', '1 while the runtime is running and its threads answer metrics requests', 'gauge',
      () => [{ labels: {}, value: this.current !== undefined && this.runtime.lifecycle === 'running' ? 1 : 0 }]);
    m('troupe_messages_handled_total', 'Messages handled, by actor kind, message type (a kind\'s first 32 handler types; the rest: other) and outcome (ok|crashed)', 'counter', () => this.series('handled'));
    m('troupe_message_handling_seconds', 'Handling time per message: an async handler until it settles; an actor averaging >= 10 us per message timed message by message, a faster one at its scheduler slice\'s mean', 'histogram',
      () => this.series('handling'));
    m('troupe_mailbox_depth', 'Messages waiting in mailboxes, summed per actor kind', 'gauge',
      () => gaugeBy((add) => { for (const [kind, k] of kinds()) add({ kind }, k.mailboxDepth); }));
    m('troupe_actors', 'Live actors by kind and status (running|restarting|circuit-open|half-open)', 'gauge',
      () => gaugeBy((add) => { for (const [kind, k] of kinds()) for (const [phase, n] of Object.entries(k.phases)) add({ kind, status: STATUS[phase] ?? phase }, n); }));
    m('troupe_restarts_total', 'Actor restarts (new incarnations after a crash, a trial or an operator restart), by kind', 'counter', () => this.series('restarts'));
    m('troupe_circuit_state', 'Actors per circuit state (closed|open|half-open), by kind', 'gauge',
      () => gaugeBy((add) => { for (const [kind, k] of kinds()) for (const [phase, n] of Object.entries(k.phases)) add({ kind, state: CIRCUIT[phase] ?? 'closed' }, n); }));
    m('troupe_circuit_transitions_total', 'Circuit transitions by kind and target state (open|half-open|closed)', 'counter', () => this.series('transitions'));
    m('troupe_dead_letters_total', 'Dead letters by reason', 'counter', () => this.series('dead'));
    m('troupe_asks_total', 'Asks settled, by outcome (ok|error|timeout)', 'counter', () => this.series('asks'));
    m('troupe_ask_timeouts_total', 'Asks that timed out', 'counter', () => this.series('timeouts'));
    m('troupe_journal_depth', 'Journaled messages not yet handled (durable mailboxes)', 'gauge',
      () => [{ labels: {}, value: this.current?.threads.reduce((n, t) => n + t.journalDepth, 0) ?? 0 }]);
    m('troupe_journal_commit_seconds', 'LMDB group commits: from the batch start until durable', 'histogram', () => this.series('commit'));
    m('troupe_snapshot_seconds', 'Snapshot writes: from the write until durable', 'histogram', () => this.series('snapshot'));
    m('troupe_worker_event_loop_utilization', 'Event-loop utilization per thread since the previous scrape (0..1; thread 0: the main thread)', 'gauge',
      () => this.current?.threads.map((t) => ({ labels: { thread: String(t.node) }, value: t.eventLoopUtilization })) ?? []);
    m('troupe_worker_heap_used_bytes', 'V8 heap used per thread', 'gauge',
      () => this.current?.threads.map((t) => ({ labels: { thread: String(t.node) }, value: t.heapUsedBytes })) ?? []);
    // LLM agents (agents/meter.ts), per agent kind: bounded labels (kind, class, model, token type, outcome).
    const agent = (family: MeterFamily) => this.agents.filter((e) => e.family === family).map((e) => ({ labels: e.labels, value: e.value }));
    m('troupe_agent_failures_total', 'Model call failures of agents by kind and class (rate-limited|overloaded|transient|context-too-long|fatal)', 'counter', () => {
      const out = agent('failures');
      const kinds = new Set(this.agents.map((e) => e.labels.kind!));
      for (const kind of kinds) for (const c of FAILURE_CLASSES) if (!out.some((v) => v.labels.kind === kind && v.labels.class === c)) out.push({ labels: { kind, class: c }, value: 0 });
      return out;
    });
    m('troupe_agent_tokens_total', 'Tokens of agents\' model calls by kind, model and type (input|output|cache_read|cache_write)', 'counter', () => agent('tokens'));
    m('troupe_agent_cost_usd_total', 'Cost of agents\' model calls in USD (the agents\' price tables) by kind and model', 'counter', () => agent('cost'));
    m('troupe_agent_turns_total', 'Model responses agents received, by kind and model', 'counter', () => agent('turns'));
    m('troupe_agent_runs_total', 'Agent runs by kind and outcome (completed|handed_off|failed)', 'counter', () => agent('runs'));
    m('troupe_agent_handoffs_total', 'Handoffs by kind and outcome (sent|received|refused)', 'counter', () => agent('handoffs'));
    // The router (router/metrics.ts), per strategy: counted on every thread that routes, summed here.
    for (const [name, help] of ROUTER_METRICS) m(name, help, 'counter', () => this.series('extra').filter((v) => v.metricName === name).map(({ labels, value }) => ({ labels, value })));
    m('troupe_agent_operation_duration_seconds', 'Model calls that answered, request to final message (gen_ai.client.operation.duration), by kind and model', 'histogram',
      () => this.agents.filter((e) => e.family === 'duration').flatMap((e) => agentHistogram('troupe_agent_operation_duration_seconds', e)));
    // Opt-in per kind (defineAgent({ metrics: { perAgent: true } })), at most 200 ids per runtime: agent="_other" past them.
    m('troupe_agent_by_id_tokens_total', 'Tokens by agent id, model and type, for the agent kinds that opt in', 'counter', () => agent('agentTokens'));
    m('troupe_agent_by_id_cost_usd_total', 'Cost in USD by agent id and model, for the agent kinds that opt in', 'counter', () => agent('agentCost'));
    m('troupe_threads_lost_total', 'Worker threads lost (died or stalled) since start', 'counter', () => [{ labels: {}, value: this.current?.threadsLost ?? 0 }]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition; concurrent scrapes share one round of requests to the threads. */
  scrape(): Promise<string> {
    return (this.inflight ??= this.collect().finally(() => (this.inflight = undefined)));
  }

  /** The latest snapshot of every thread (shared with a scrape in flight). */
  async snapshot(): Promise<RuntimeMetrics | undefined> {
    await this.scrape();
    return this.current;
  }

  close(): void {
    this.registry.clear();
  }

  private async collect(): Promise<string> {
    this.current = this.runtime.lifecycle === 'stopped' ? undefined : await withDeadline(this.runtime.metricsSnapshot(), SNAPSHOT_DEADLINE_MS);
    if (this.current !== undefined) this.totals = this.counters.sum(samples(this.current), new Map(this.current.threads.map((t) => [t.node, t.epoch])));
    if (this.runtime.lifecycle === 'running') this.agents = (await withDeadline(readAgentMeter(this.runtime), SNAPSHOT_DEADLINE_MS)) ?? this.agents;
    return this.registry.metrics();
  }

  /** The values of one counter family from the monotonic totals (series keys: family \0 metric name \0 labels). */
  private series(family: string): Value[] {
    const out: Value[] = [];
    for (const [key, value] of this.totals) {
      const [f, metricName, labels] = key.split('\u0000');
      if (f === family) out.push({ metricName, labels: JSON.parse(labels!) as Labels, value });
    }
    return out;
  }
}

/** A meter histogram (buckets not cumulative) as Prometheus series (cumulative `le` buckets, _sum, _count). */
function agentHistogram(name: string, e: MeterEntry): Value[] {
  const out: Value[] = [];
  let cumulative = 0;
  const bounds = [...DURATION_BUCKETS_S.map(String), '+Inf'];
  for (let i = 0; i < bounds.length; i++) {
    cumulative += e.buckets?.[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...e.labels, le: bounds[i]! }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels: e.labels, value: e.value }, { metricName: `${name}_count`, labels: e.labels, value: cumulative });
  return out;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Every counter of every thread as [thread, series key, value]. */
function* samples(m: RuntimeMetrics): Generator<readonly [number, string, number]> {
  const key = (family: string, name: string, labels: Labels) => `${family}\u0000${name}\u0000${JSON.stringify(labels)}`;
  function* histogram(node: number, family: string, name: string, h: HistogramData, labels: Labels) {
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += h.counts[i] ?? 0;
      yield [node, key(family, `${name}_bucket`, { ...labels, le: LE[i]! }), cumulative] as const;
    }
    yield [node, key(family, `${name}_sum`, labels), h.sumMs / 1000] as const;
    yield [node, key(family, `${name}_count`, labels), h.count] as const;
  }
  for (const t of m.threads) {
    const n = t.node;
    for (const [kind, k] of Object.entries(t.kinds)) {
      // By type: a kind's first handler types by name, the rest as 'other' (runtime/thread-metrics.ts MAX_TYPE_LABELS).
      for (const [type, t] of Object.entries(k.types)) {
        yield [n, key('handled', 'troupe_messages_handled_total', { kind, type, outcome: 'ok' }), t.handled - t.crashed];
        yield [n, key('handled', 'troupe_messages_handled_total', { kind, type, outcome: 'crashed' }), t.crashed];
      }
      yield [n, key('restarts', 'troupe_restarts_total', { kind }), k.restarts];
      for (const [to, v] of Object.entries(k.transitions)) yield [n, key('transitions', 'troupe_circuit_transitions_total', { kind, to }), v];
      if (k.handling.count > 0 || k.handled > 0) yield* histogram(n, 'handling', 'troupe_message_handling_seconds', k.handling, { kind });
    }
    for (const [reason, v] of Object.entries(t.deadLetters)) yield [n, key('dead', 'troupe_dead_letters_total', { reason }), v];
    yield [n, key('asks', 'troupe_asks_total', { outcome: 'ok' }), t.asks.ok];
    yield [n, key('asks', 'troupe_asks_total', { outcome: 'error' }), t.asks.error];
    yield [n, key('asks', 'troupe_asks_total', { outcome: 'timeout' }), t.asks.timeout];
    yield [n, key('timeouts', 'troupe_ask_timeouts_total', {}), t.asks.timeout];
    for (const [k, v] of Object.entries(t.extra ?? {})) {
      const [name, labels] = k.split('\u0000');
      yield [n, key('extra', name!, JSON.parse(labels ?? '{}') as Labels), v];
    }
    yield* histogram(n, 'commit', 'troupe_journal_commit_seconds', t.journalCommit, {});
    yield* histogram(n, 'snapshot', 'troupe_snapshot_seconds', t.snapshot, {});
  }
}
