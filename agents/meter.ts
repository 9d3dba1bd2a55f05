/**
 * The agents' meter: one actor on the main thread that counts, per agent kind, failures by class, tokens by model
 * and type, cost, turns, runs by outcome, handoffs and model-call durations, for metrics (ops/metrics.ts exports
 * them as troupe_agent_*). Each run tells it what it met and spent when it ends, fails or crashes, so a crashed run
 * is counted too (the agent's own stats roll back with the crash). Started by the first agent that reports.
 *
 * Labels are bounded: kind, class, model, token type, outcome. An agent id is a label only for the kinds that opt
 * in (`defineAgent({ metrics: { perAgent: true } })`), only on the by-agent families (tokens and cost), and for at
 * most MAX_AGENT_SERIES ids per runtime: the ids past those are counted as `_other`.
 */
import { defineActor, type ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import { systemClock } from '../runtime/clock.ts';
import { handlerTime } from '../runtime/extensions.ts';
import type { FailureClass } from './policy/classify.ts';
import type { TokenCounts } from './prices.ts';

export const METER_ID = 'troupe.agent-meter';

export type MeterFamily = 'failures' | 'tokens' | 'cost' | 'turns' | 'runs' | 'handoffs' | 'duration' | 'agentTokens' | 'agentCost';

/** One counter increment (a family, its labels with kind first, the amount); a histogram's: its sum and bucket counts. */
export type MeterSample = [family: MeterFamily, labels: Record<string, string>, value: number, buckets?: number[]];

export interface MeterEntry {
  family: MeterFamily;
  labels: Record<string, string>;
  value: number;
  /** Histograms: observations per bucket of DURATION_BUCKETS_S (not cumulative; the last is +Inf). */
  buckets?: number[];
}

/** Upper bounds (s) of the model-call duration histogram: OpenTelemetry GenAI's advice for gen_ai.client.operation.duration. */
export const DURATION_BUCKETS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** Distinct agent ids the by-agent families keep as labels, per runtime; the rest are `_other`. */
export const MAX_AGENT_SERIES = 200;
export const OTHER_AGENT = '_other';

export const agentMeter = defineActor({
  kind: 'troupe.agent-meter',
  init: () => ({ counters: {} as Record<string, MeterEntry>, agents: {} as Record<string, true>, agentCount: 0 }),
  handlers: {
    report: (s, samples: MeterSample[]) => {
      s.agents ??= {}; // state of a meter from before by-agent families
      s.agentCount ??= 0;
      for (const [family, given, value, buckets] of samples) {
        let labels = given;
        if (labels.agent !== undefined && !s.agents[labels.agent]) {
          if (s.agentCount < MAX_AGENT_SERIES) {
            s.agents[labels.agent] = true;
            s.agentCount++;
          } else labels = { ...labels, agent: OTHER_AGENT };
        }
        const key = `${family}\u0000${JSON.stringify(labels)}`;
        const e = (s.counters[key] ??= { family, labels, value: 0, ...(buckets ? { buckets: buckets.map(() => 0) } : {}) });
        e.value += value;
        if (buckets && e.buckets) for (let i = 0; i < buckets.length; i++) e.buckets[i] = (e.buckets[i] ?? 0) + (buckets[i] ?? 0);
      }
    },
    read: (s) => Object.values(s.counters),
  },
});

/**
 * What one run met and spent, merged by series as it comes (a 40-turn run made 240 samples, one series each
 * turn; now about 8), sent to the meter once when the run ends.
 */
export class MeterBatch {
  readonly #series = new Map<string, MeterSample>();
  /** Each model's series, found without building a key: a turn adds to five or six of them. */
  readonly #models = new Map<string, ModelSeries>();

  constructor(private readonly kind: string, private readonly agent?: string) {}

  get size(): number {
    return this.#series.size;
  }

  add(family: MeterFamily, labels: Record<string, string>, value: number): void {
    this.#sample(family, labels)[2] += value;
  }

  failure(c: FailureClass): void {
    this.add('failures', { kind: this.kind, class: c }, 1);
  }

  /** A model response's usage: tokens by type (named as OpenTelemetry's GenAI token types), cost, and a turn unless not one. */
  usage(model: string, t: TokenCounts, costUsd: number, turn = true): void {
    const m = this.#model(model);
    if (turn) (m.turns ??= this.#sample('turns', { kind: this.kind, model }))[2]++;
    m.cost[2] += costUsd;
    if (m.agentCost) m.agentCost[2] += costUsd;
    this.#tokens(m, 0, t.input);
    this.#tokens(m, 1, t.output);
    this.#tokens(m, 2, t.cacheRead);
    this.#tokens(m, 3, t.cacheWrite);
  }

  /** One model call of `seconds` (gen_ai.client.operation.duration). */
  duration(model: string, seconds: number): void {
    const m = this.#model(model);
    const s = (m.duration ??= this.#sample('duration', { kind: this.kind, model }, DURATION_BUCKETS_S.length + 1));
    s[2] += seconds;
    let i = 0;
    while (i < DURATION_BUCKETS_S.length && seconds > DURATION_BUCKETS_S[i]!) i++;
    s[3]![i]!++;
  }

  samples(): MeterSample[] {
    return [...this.#series.values()];
  }

  /** The series of these labels (made at 0, with `buckets` zeroed bucket counts, on first use). */
  #sample(family: MeterFamily, labels: Record<string, string>, buckets?: number): MeterSample {
    const key = seriesKey(family, labels);
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, (s = buckets === undefined ? [family, labels, 0] : [family, labels, 0, new Array<number>(buckets).fill(0)]));
    return s;
  }

  #model(model: string): ModelSeries {
    let m = this.#models.get(model);
    if (!m) {
      const kind = this.kind;
      const agent = this.agent;
      m = { cost: this.#sample('cost', { kind, model }), agentCost: agent !== undefined ? this.#sample('agentCost', { kind, agent, model }) : undefined, tokens: [], agentTokens: [] };
      this.#models.set(model, m);
    }
    return m;
  }

  /** Tokens of one type (a series only once some were used). */
  #tokens(m: ModelSeries, i: number, n: number): void {
    if (n <= 0) return;
    const model = m.cost[1].model!;
    const kind = this.kind;
    (m.tokens[i] ??= this.#sample('tokens', { kind, model, type: TOKEN_TYPES[i]! }))[2] += n;
    const agent = this.agent;
    if (agent !== undefined) (m.agentTokens[i] ??= this.#sample('agentTokens', { kind, agent, model, type: TOKEN_TYPES[i]! }))[2] += n;
  }
}

/** OpenTelemetry's GenAI token types, in the order of TokenCounts' fields (input, output, cacheRead, cacheWrite). */
const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_write'] as const;

interface ModelSeries {
  turns?: MeterSample;
  cost: MeterSample;
  agentCost: MeterSample | undefined;
  tokens: Array<MeterSample | undefined>;
  agentTokens: Array<MeterSample | undefined>;
  duration?: MeterSample;
}

const seriesKey = (family: string, labels: Record<string, string>) => `${family}\u0000${Object.values(labels).join('\u0000')}`;

/** The meter's counters, or [] when no agent has reported yet (for ops/metrics.ts). */
export async function readAgentMeter(m: { lookup(id: string): Promise<ActorRef | undefined>; ask(to: ActorRef, type: string, payload?: unknown): Promise<unknown> }): Promise<MeterEntry[]> {
  const ref = await m.lookup(METER_ID);
  if (ref === undefined) return [];
  return (await m.ask(ref, 'read').catch(() => [])) as MeterEntry[];
}

/** How long a report waits for a meter another thread is spawning: doubling from `firstMs` to `maxMs`, at most `totalMs` in all. */
export const METER_WAIT = { firstMs: 2, maxMs: 100, totalMs: 60_000 } as const;

/** The wait before looking for the meter again after `attempt` (0-based) found its id taken but no meter yet. */
export function meterWaitMs(attempt: number): number {
  return Math.min(METER_WAIT.maxMs, METER_WAIT.firstMs * 2 ** Math.min(attempt, 30));
}

export interface ReportOptions {
  /** How to wait `ms` before looking again (default: a timer on the runtime's clock). */
  wait?: (attempt: number, ms: number) => Promise<void>;
}

/**
 * Count a run's samples (one batch per run, when it ends, fails or crashes). Never throws into the run: a meter
 * that cannot be reached (the runtime is stopping) loses the samples, not the run. Looked up each time: a cached ref
 * would outlive a runtime restarted in the same process.
 */
export async function report(ctx: ActorContext, batch: MeterBatch, options: ReportOptions = {}): Promise<void> {
  if (batch.size === 0) return;
  try {
    const ref = await findMeter(ctx, options.wait ?? clockWait(ctx));
    if (ref) ctx.tell(ref as never, 'report' as never, batch.samples() as never);
    else ctx.log.warn({ meter: METER_ID, waitedMs: METER_WAIT.totalMs }, "the agents' meter never started: a run's metrics were dropped");
  } catch {
    // the runtime is stopping, or the main thread is gone: metrics are best effort
  }
}

/**
 * The meter, spawned by the first run that reports. While another thread's spawn of it is under way its id is
 * taken (a spawn fails with ERR_DUPLICATE_ACTOR_ID) but not yet found by lookup: that lasts as long as the main
 * thread takes to load the meter's module, so we wait and look again rather than give up (which lost the batch).
 */
async function findMeter(ctx: ActorContext, wait: (attempt: number, ms: number) => Promise<void>): Promise<ActorRef | undefined> {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const found = await ctx.lookup(METER_ID);
    if (found) return found;
    try {
      return await ctx.spawn(agentMeter, { id: METER_ID, pin: 0 });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_DUPLICATE_ACTOR_ID') throw err;
    }
    if (waited >= METER_WAIT.totalMs) return undefined;
    const ms = meterWaitMs(attempt);
    waited += ms;
    await wait(attempt, ms);
  }
}

/** A timer on the runtime's clock (a harness's virtual clock in simulation). */
function clockWait(ctx: ActorContext): (attempt: number, ms: number) => Promise<void> {
  const clock = handlerTime(ctx)?.clock ?? systemClock;
  return (_attempt, ms) => new Promise<void>((resolve) => void clock.setTimer(resolve, ms));
}
