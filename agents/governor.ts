/**
 * The quota governor actor: one per runtime, on the main thread (pin: 0), shared by every agent on every thread.
 * Agents ask it for a permit before each model request and tell it the real usage and the rate-limit headers
 * after. The policy (policy/quota.ts) is pure and keeps its buckets in memory: quota is about the next minute,
 * nothing worth a disk write. A waiting agent is told how long to wait (no handler blocks, so the governor
 * answers every thread at once).
 */
import { defineActor, type ActorRef } from '../actors/define.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { ActorContext } from '../actors/context.ts';
import { systemClock } from '../runtime/clock.ts';
import { handlerTime } from '../runtime/extensions.ts';
import { QuotaPolicy, type Permit, type PermitDecision, type PermitRequest, type QuotaOptions, type Usage } from './policy/quota.ts';

export const GOVERNOR_ID = 'troupe.quota-governor';

/** The policy objects live beside the actor (state must be plain data); keyed by actor id. */
const policies = new Map<string, QuotaPolicy>();
let injected: (() => number) | undefined;

/**
 * Now for the policy: startQuotaGovernor's `now` if given, else the wall clock (rate-limit reset headers are
 * wall-clock times), or the runtime's when it was given one (a harness's virtual clock: the simulated model's reset
 * headers count from its zero).
 */
function clockOf(ctx: ActorContext): () => number {
  if (injected) return injected;
  const c = handlerTime(ctx)?.clock;
  return c === undefined || c === systemClock ? Date.now : () => c.now();
}

export const quotaGovernor = defineActor({
  kind: 'troupe.quota-governor',
  // The options as JSON: a state of one string is a flat record, which the runtime copies per message instead of
  // opening a working copy of a nested state (two messages per model turn; the policy is read, the state never written).
  init: (options: QuotaOptions) => ({ options: JSON.stringify(options) }),
  handlers: {
    acquire: (s, r: PermitRequest, ctx): PermitDecision => policyOf(ctx.self.id, s.options).request(r, clockOf(ctx)()),
    settle: (s, m: { permit: Permit; usage: Usage; headers?: Record<string, string> }, ctx) => {
      const p = policyOf(ctx.self.id, s.options);
      const clock = clockOf(ctx);
      p.settle(m.permit, m.usage, clock());
      if (m.headers) p.resync(m.permit.key, m.headers, clock());
    },
    /** The request failed: give back its tokens; a 429 also blocks the key for its retry-after. */
    failed: (s, m: { permit: Permit; blockMs?: number; headers?: Record<string, string> }, ctx) => {
      const p = policyOf(ctx.self.id, s.options);
      const clock = clockOf(ctx);
      p.release(m.permit, clock());
      if (m.blockMs !== undefined) p.blockKey(m.permit.key, m.blockMs, clock());
      if (m.headers) p.resync(m.permit.key, m.headers, clock());
    },
    stats: (s, key: string | undefined, ctx) => {
      const p = policyOf(ctx.self.id, s.options);
      const clock = clockOf(ctx);
      return { ...p.counters, ...(key ? { waiting: p.waiting(key), available: p.available(key, clock()) } : {}) };
    },
  },
});

function policyOf(id: string, options: string): QuotaPolicy {
  let p = policies.get(id);
  if (!p) policies.set(id, (p = new QuotaPolicy(JSON.parse(options) as QuotaOptions)));
  return p;
}

/** Start the governor on the main thread. Agents find it by its id (GOVERNOR_ID) unless told otherwise. */
export async function startQuotaGovernor(runtime: Runtime, options: QuotaOptions, o: { id?: string; now?: () => number } = {}): Promise<ActorRef<typeof quotaGovernor>> {
  const id = o.id ?? GOVERNOR_ID;
  new QuotaPolicy(options); // bad limits are a named error here, at start
  if (o.now) injected = o.now;
  policies.delete(id);
  return runtime.spawn(quotaGovernor, { id, pin: 0, args: options });
}
