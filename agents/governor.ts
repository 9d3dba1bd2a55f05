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

/** A governor's policy object (state must be plain data) and its clock, beside the actor. */
interface Governed {
  readonly policy: QuotaPolicy;
  readonly now: () => number;
  /** The start it belongs to (the state's `start`): a governor started again gets a new policy. */
  readonly start: string;
}
/**
 * Per runtime thread (keyed by its HandlerTime, one object per thread of each runtime), by actor id: two runtimes in
 * one process (two simulations back to back, two apps) share no buckets and no clock. `outside`: for a context that
 * is not a runtime's (a handler called directly).
 */
const governed = new WeakMap<object, Map<string, Governed>>();
const outside = {};
/** The `now` a startQuotaGovernor call gave, until its governor's first message takes it (by start token). */
const injected = new Map<string, () => number>();
let starts = 0;

/**
 * Now for the policy: startQuotaGovernor's `now` if given, else the wall clock (rate-limit reset headers are
 * wall-clock times), or the runtime's when it was given one (a harness's virtual clock: the simulated model's reset
 * headers count from its zero).
 */
function clockOf(ctx: ActorContext, start: string): () => number {
  const given = injected.get(start);
  if (given !== undefined) {
    injected.delete(start);
    return given;
  }
  const c = handlerTime(ctx)?.clock;
  return c === undefined || c === systemClock ? Date.now : () => c.now();
}

type GovernorState = { options: string; start: string };

export const quotaGovernor = defineActor({
  kind: 'troupe.quota-governor',
  // The options as JSON: a state of one string is a flat record, which the runtime copies per message instead of
  // opening a working copy of a nested state (two messages per model turn; the policy is read, the state never written).
  // The start token: startQuotaGovernor's (a new policy per start), or '' (a governor spawned or supervised directly:
  // its policy lives as long as its runtime thread, across restarts, as before).
  init: (options: QuotaOptions & { $start?: string }): GovernorState => {
    const { $start, ...quota } = options;
    return { options: JSON.stringify(quota), start: $start ?? '' };
  },
  handlers: {
    acquire: (s, r: PermitRequest, ctx): PermitDecision => {
      const g = governedBy(ctx, s);
      return g.policy.request(r, g.now());
    },
    settle: (s, m: { permit: Permit; usage: Usage; headers?: Record<string, string> }, ctx) => {
      const { policy: p, now } = governedBy(ctx, s);
      p.settle(m.permit, m.usage, now());
      if (m.headers) p.resync(m.permit.key, m.headers, now());
    },
    /** The request failed: give back its tokens; a 429 also blocks the key for its retry-after. */
    failed: (s, m: { permit: Permit; blockMs?: number; headers?: Record<string, string> }, ctx) => {
      const { policy: p, now } = governedBy(ctx, s);
      p.release(m.permit, now());
      if (m.blockMs !== undefined) p.blockKey(m.permit.key, m.blockMs, now());
      if (m.headers) p.resync(m.permit.key, m.headers, now());
    },
    stats: (s, key: string | undefined, ctx) => {
      const { policy: p, now } = governedBy(ctx, s);
      return { ...p.counters, ...(key ? { waiting: p.waiting(key), available: p.available(key, now()) } : {}) };
    },
  },
});

function governedBy(ctx: ActorContext, s: GovernorState): Governed {
  const thread = handlerTime(ctx) ?? outside;
  let byId = governed.get(thread);
  if (byId === undefined) governed.set(thread, (byId = new Map()));
  let g = byId.get(ctx.self.id);
  if (g === undefined || g.start !== s.start) {
    g = { policy: new QuotaPolicy(JSON.parse(s.options) as QuotaOptions), now: clockOf(ctx, s.start), start: s.start };
    byId.set(ctx.self.id, g);
  }
  return g;
}

/** Start the governor on the main thread. Agents find it by its id (GOVERNOR_ID) unless told otherwise. */
export async function startQuotaGovernor(runtime: Runtime, options: QuotaOptions, o: { id?: string; now?: () => number } = {}): Promise<ActorRef<typeof quotaGovernor>> {
  const id = o.id ?? GOVERNOR_ID;
  new QuotaPolicy(options); // bad limits are a named error here, at start
  const start = `start-${++starts}`;
  if (o.now) injected.set(start, o.now);
  return runtime.spawn(quotaGovernor, { id, pin: 0, args: { ...options, $start: start } });
}
