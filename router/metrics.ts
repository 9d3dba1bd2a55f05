// The router's counters on one thread, read with the thread's metrics (runtime/extensions.ts countersSource) and
// exported by ops/metrics.ts as troupe_router_*. Labels are bounded: the strategy's name ('custom' for a user's
// function), the purpose, the reason; never a route's members. Plain numbers per route, summed per strategy on read.

/** What one compiled route counts (ThreadRouter holds one per strategy; each route of that strategy shares it). */
export interface RouteCounts {
  /** Tells routed to a member. */
  tells: number;
  /** Asks and sends: first attempts. */
  asks: number;
  /** Attempts after the first (another member, or the same one again for an ambiguous send). */
  retries: number;
  /** Messages no live member could take (a tell: a 'no-route' dead letter; an ask or send: NoRouteError). */
  noRoute: number;
  /** Asks and sends whose attempts all failed or ran out of time (RoutingFailedError). */
  exhausted: number;
}

/** The troupe_router_* metrics: name, help (ops/metrics.ts registers them; every thread's values are summed). */
export const ROUTER_METRICS: ReadonlyArray<readonly [name: string, help: string]> = [
  ['troupe_router_routed_total', 'Messages routed to a member, by strategy and purpose (tell|ask: asks and sends, first attempts)'],
  ['troupe_router_retries_total', 'Routed asks and sends attempted again after a failure, by strategy'],
  ['troupe_router_failures_total', 'Routed messages that reached no member, by strategy and reason (no-route|exhausted: every attempt failed)'],
];

export class RouterCounters {
  private readonly byStrategy = new Map<string, RouteCounts>();

  /** The counts of a strategy: `strategyName` as the router names it (a user's function counts as 'custom'). */
  of(strategyName: string): RouteCounts {
    const label = strategyName.includes('#') ? 'custom' : strategyName;
    let c = this.byStrategy.get(label);
    if (c === undefined) this.byStrategy.set(label, (c = { tells: 0, asks: 0, retries: 0, noRoute: 0, exhausted: 0 }));
    return c;
  }

  /** Keyed as ThreadMetrics.extra wants them: `<metric name>\u0000<labels JSON>`. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    const put = (name: string, labels: Record<string, string>, v: number) => (out[`${name}\u0000${JSON.stringify(labels)}`] = v);
    for (const [strategy, c] of this.byStrategy) {
      put('troupe_router_routed_total', { strategy, purpose: 'tell' }, c.tells);
      put('troupe_router_routed_total', { strategy, purpose: 'ask' }, c.asks);
      put('troupe_router_retries_total', { strategy }, c.retries);
      put('troupe_router_failures_total', { strategy, reason: 'no-route' }, c.noRoute);
      put('troupe_router_failures_total', { strategy, reason: 'exhausted' }, c.exhausted);
    }
    return out;
  }
}

/** What routes count into with metrics off: one sink for all, never read (no branch per message, nothing collected). */
export const UNCOUNTED: RouteCounts = { tells: 0, asks: 0, retries: 0, noRoute: 0, exhausted: 0 };
