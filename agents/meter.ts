/**
 * The agents' meter: one actor on the main thread that counts, per agent kind (never per id: bounded labels),
 * failures by class, tokens by model and type, cost, turns, runs by outcome and handoffs, for metrics
 * (ops/metrics.ts exports them as troupe_agent_*). Each run tells it what it met and spent when it ends, fails or
 * crashes, so a crashed run is counted too (the agent's own stats roll back with the crash). Started by the first agent that reports.
 */
import { defineActor, type ActorRef } from '../actors/define.ts';
import type { ActorContext } from '../actors/context.ts';
import type { FailureClass } from './policy/classify.ts';
import type { TokenCounts } from './prices.ts';

export const METER_ID = 'troupe.agent-meter';

export type MeterFamily = 'failures' | 'tokens' | 'cost' | 'turns' | 'runs' | 'handoffs';

/** One counter increment: a family, its labels (kind first), the amount. */
export type MeterSample = [family: MeterFamily, labels: Record<string, string>, value: number];

export interface MeterEntry {
  family: MeterFamily;
  labels: Record<string, string>;
  value: number;
}

export const agentMeter = defineActor({
  kind: 'troupe.agent-meter',
  init: () => ({ counters: {} as Record<string, MeterEntry> }),
  handlers: {
    report: (s, samples: MeterSample[]) => {
      for (const [family, labels, value] of samples) {
        const key = `${family}\u0000${JSON.stringify(labels)}`;
        const e = (s.counters[key] ??= { family, labels, value: 0 });
        e.value += value;
      }
    },
    read: (s) => Object.values(s.counters),
  },
});

/** The meter's counters, or [] when no agent has reported yet (for ops/metrics.ts). */
export async function readAgentMeter(m: { lookup(id: string): Promise<ActorRef | undefined>; ask(to: ActorRef, type: string, payload?: unknown): Promise<unknown> }): Promise<MeterEntry[]> {
  const ref = await m.lookup(METER_ID);
  if (ref === undefined) return [];
  return (await m.ask(ref, 'read').catch(() => [])) as MeterEntry[];
}

/**
 * Count samples (an agent sends one batch per run, when it ends, fails or crashes). Never throws into the run: a
 * meter that cannot be reached loses the samples, not the run. Looked up each time: a cached ref would outlive a
 * runtime restarted in the same process.
 */
export async function report(ctx: ActorContext, samples: MeterSample[]): Promise<void> {
  if (samples.length === 0) return;
  try {
    const ref = await findMeter(ctx);
    if (ref) ctx.tell(ref as never, 'report' as never, samples as never);
  } catch {
    // the runtime is stopping, or the main thread is gone: metrics are best effort
  }
}

async function findMeter(ctx: ActorContext): Promise<ActorRef | undefined> {
  for (let i = 0; i < 3; i++) {
    const found = await ctx.lookup(METER_ID);
    if (found) return found;
    try {
      return await ctx.spawn(agentMeter, { id: METER_ID, pin: 0 });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_DUPLICATE_ACTOR_ID') throw err;
    }
  }
  return undefined;
}

/** A response's usage as samples (token types named as OpenTelemetry's GenAI conventions do: input, output...). */
export function usageSamples(kind: string, model: string, t: TokenCounts, costUsd: number): MeterSample[] {
  const out: MeterSample[] = [['turns', { kind, model }, 1], ['cost', { kind, model }, costUsd]];
  for (const [type, n] of [['input', t.input], ['output', t.output], ['cache_read', t.cacheRead], ['cache_write', t.cacheWrite]] as const) {
    if (n > 0) out.push(['tokens', { kind, model, type }, n]);
  }
  return out;
}

export const failureSample = (kind: string, c: FailureClass): MeterSample => ['failures', { kind, class: c }, 1];
