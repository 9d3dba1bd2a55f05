import type { ActorRef, Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import type { RouteResolver, ThreadServices } from '../runtime/extensions.ts';
import { TroupeError } from '../runtime/errors.ts';
import { normalRoute, type NormalRoute } from './route.ts';
import { RouteCandidate, RoutingTable, type View } from './table.ts';
import { InvalidStrategyChoiceError, NoRouteError } from './errors.ts';
import { resolveStrategy } from './strategies/index.ts';
import { classify, nextDelay, validateRetryPolicy, type RetryPolicy } from './policy/retry.ts';
import { routingFailed } from './policy/errors.ts';
import type { Strategy, StrategyState } from './types.ts';
import { RouterCounters, UNCOUNTED, type RouteCounts } from './metrics.ts';

type Purpose = 'tell' | 'ask';

/**
 * The router on one thread: every message addressed by route is resolved here, on its sender's thread, from the
 * directory every thread keeps (no hop through a router actor). Asks and sends that fail on their target are
 * retried on another capable actor under the route's RetryPolicy; tells are fire and forget.
 */
export class ThreadRouter implements RouteResolver {
  readonly table: RoutingTable;
  private readonly states = new Map<string, StrategyState>();
  private readonly byRoute = new WeakMap<Route, Compiled>();
  private lastRoute: Route | undefined;
  private lastCompiled: Compiled | undefined;
  private messageSeq = 0;
  private readonly idPrefix = `r${Math.floor(Math.random() * 2 ** 48).toString(36)}-`;

  /** undefined with metrics off (ThreadServices.metrics): nothing is counted, nothing is read. */
  private readonly counters: RouterCounters | undefined;

  constructor(private readonly services: ThreadServices) {
    this.table = new RoutingTable(services.directory, services.localLoadProbe, () => services.clock.now());
    if (services.metrics === false) return;
    const counters = (this.counters = new RouterCounters());
    services.countersSource(() => counters.read());
  }

  /** `trace`: the sender's traceparent, carried to whichever member is chosen (runtime/tracing.ts). */
  tell(route: Route, type: string, payload: unknown, from: string, trace = ''): void {
    const r = this.compiled(route);
    const c = this.choose(r, type, 'tell', undefined);
    if (c === undefined) {
      r.counts.noRoute++;
      return this.services.deadLetter('', type, from, 'no-route', describe(r.normal));
    }
    r.counts.tells++;
    this.services.tell(c.ref, type, payload, from, trace);
  }

  ask(route: Route, type: string, payload: unknown, from: string, timeoutMs: number | undefined, trace = ''): Promise<unknown> {
    const r = this.compiled(route);
    return this.attempts(r, type, (ref, remaining) => this.services.ask(ref, type, payload, from, remaining, trace), timeoutMs, false);
  }

  send(route: Route, type: string, payload: unknown, from: string, messageId: string, timeoutMs: number | undefined, trace = ''): Promise<unknown> {
    const r = this.compiled(route);
    // One id across every attempt: a durable target that journaled a first try recognises the retry.
    const id = messageId !== '' ? messageId : `${this.idPrefix}${(++this.messageSeq).toString(36)}`;
    return this.attempts(r, type, (ref, remaining) => this.services.send(ref, type, payload, from, id, remaining, trace), timeoutMs, true);
  }

  find(route: Route): readonly MemberInfo[] {
    const view = this.table.view(this.compiled(route).normal);
    this.table.observations.weigh(view.observed, this.services.clock.now());
    return view.all.map(info).sort((a, b) => a.load - b.load || (a.id < b.id ? -1 : 1));
  }

  /**
   * Try targets until one answers, the policy says stop, or the time is up: all attempts share the ask's timeout
   * (default 5 s), itself bounded by the policy's deadline. A send whose outcome is unknown (it timed out, or its
   * thread was lost: it may be journaled there) is retried on the same actor when it is still a member, with the
   * same message id, so a durable actor recognises it: another actor would apply it a second time.
   */
  private async attempts(r: Compiled, type: string, attempt: (ref: ActorRef, remainingMs: number) => Promise<unknown>, timeoutMs: number | undefined, acknowledged: boolean): Promise<unknown> {
    const policy = this.policy(r);
    const clock = this.services.clock;
    const started = clock.now();
    // The ask's timeout bounds every attempt together (the caller's budget), and the policy's deadline too.
    const budget = Math.min(timeoutMs ?? 5000, policy.deadlineMs);
    const tried = new Set<string>();
    const failures: Array<{ target: string; error: Error }> = [];
    let again: RouteCandidate | undefined;
    for (let n = 1; ; n++) {
      const c = (again !== undefined ? this.sameActor(r, again) : undefined) ?? this.choose(r, type, 'ask', tried);
      again = undefined;
      if (c === undefined) {
        if (failures.length === 0) {
          r.counts.noRoute++;
          throw new NoRouteError(`no live actor offers ${describe(r.normal)}`, { details: { route: describe(r.normal) } });
        }
        r.counts.exhausted++;
        throw routingFailed(failures);
      }
      if (n === 1) r.counts.asks++;
      else r.counts.retries++;
      tried.add(c.id);
      const o = c.observed;
      o.inFlight++;
      const t0 = clock.now();
      try {
        const value = await attempt(c.ref, Math.max(1, budget - (t0 - started)));
        this.table.observations.succeeded(o, clock.now() - t0, clock.now());
        return value;
      } catch (err) {
        const now = clock.now();
        const verdict = classify(policy, err);
        if (verdict === 'fail' && !isRefusal(err)) throw err; // the target's own answer (a validation error...)
        // A refusal (not there, circuit open, thread lost) is a health fact the directory carries, not a failure of
        // the actor's handling: it does not count toward outlier ejection or the latency score.
        if (!isRefusal(err)) this.table.observations.failed(o, now, this.table.view(r.normal).all.length, retryAfter(err));
        else if ((err as TroupeError).details?.phase === 'open') this.table.observations.trialRefused(o);
        failures.push({ target: c.id, error: err as Error });
        const delay = nextDelay(policy, n, this.services.random);
        if (verdict === 'fail' || n >= policy.maxAttempts || now + delay - started >= budget) {
          r.counts.exhausted++;
          throw routingFailed(failures);
        }
        if (acknowledged && isAmbiguous(err)) again = c;
        if (delay > 0) await new Promise((resolve) => clock.setTimer(() => resolve(undefined), delay));
      } finally {
        o.inFlight--;
      }
    }
  }

  /** A user's strategy function, numbered: its state (memory) is its own per candidate set. */
  private functionId(fn: Strategy): number {
    let id = functionIds.get(fn);
    if (id === undefined) functionIds.set(fn, (id = ++functionCount));
    return id;
  }

  /** The candidate for the same actor as `c` now (it may have been restarted on another thread), if it is a member. */
  private sameActor(r: Compiled, c: RouteCandidate): RouteCandidate | undefined {
    const member = this.services.directory.get(c.id);
    if (member === undefined) return undefined;
    if (member === c.member) return c;
    return this.table.view(r.normal).all.find((x) => x.id === c.id);
  }

  private policy(r: Compiled): RetryPolicy {
    return (r.policy ??= validateRetryPolicy(r.normal.retry));
  }

  /**
   * One eligible candidate: running and not ejected first; a half-open one takes its single trial only as an ask or
   * send (which can be retried elsewhere if the trial slot is gone); a restarting one only when nobody else can
   * (its mail is held for it). Untried candidates first when retrying.
   */
  private choose(r: Compiled, type: string, purpose: Purpose, tried: Set<string> | undefined): RouteCandidate | undefined {
    const view = this.table.view(r.normal);
    // A half-open actor gets its one trial from the next ask or send (retried elsewhere if the trial fails), so a
    // recovered actor rejoins; a tell never is a trial unless nobody else can take it.
    if (purpose === 'ask') for (const c of view.halfOpen) if (tried === undefined || !tried.has(c.id)) return this.picked(c);
    const pool = eligible(view, purpose, tried, r.normal.key !== undefined);
    if (pool.length === 0) return undefined;
    if (pool.length === 1) return this.picked(pool[0]);
    if (r.strategyName === 'weighted-adaptive') this.table.observations.weigh(view.observed, this.services.clock.now());
    let choice: unknown;
    try {
      r.message.type = type;
      choice = r.strategy(pool, r.message, r.state);
    } catch (err) {
      throw new InvalidStrategyChoiceError(`strategy '${r.strategyName}' threw: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    const chosen = choice as RouteCandidate;
    if (!(choice instanceof RouteCandidate) || (chosen.tier !== pool && !pool.includes(chosen))) throw new InvalidStrategyChoiceError(`strategy '${r.strategyName}' chose something that is not one of its candidates`);
    return this.picked(choice as RouteCandidate);
  }

  private picked(c: RouteCandidate): RouteCandidate {
    if (c.member.phase === 'half-open') this.table.observations.trial(c.observed, c.member.epoch);
    return c;
  }

  /**
   * A route as this thread routes it: validated, its strategy resolved, its strategy state kept (per candidate set
   * and strategy), cached by the route object's identity (a route held in a constant costs one lookup per message).
   */
  private compiled(route: Route): Compiled {
    const frozen = Object.isFrozen(route);
    if (frozen && route === this.lastRoute) return this.lastCompiled!;
    let c = frozen ? this.byRoute.get(route) : undefined;
    if (c === undefined) {
      const normal = normalRoute(route);
      const chosen = normal.strategy ?? (normal.key !== undefined ? 'consistent-hash' : 'least-loaded');
      const strategyName = typeof chosen === 'string' ? chosen : `${chosen.name || 'custom'}#${this.functionId(chosen)}`;
      const stateKey = `${normal.setKey}\u0002${strategyName}`;
      let state = this.states.get(stateKey);
      if (state === undefined) {
        const clock = this.services.clock;
        state = { get now() { return clock.now(); }, random: this.services.random, memory: {} };
        this.states.set(stateKey, state);
      }
      c = { normal, strategyName, strategy: resolveStrategy(chosen), state, message: { type: '', key: normal.key }, policy: undefined, counts: this.counters?.of(strategyName) ?? UNCOUNTED };
      if (!frozen) return c; // (a plain object may be changed before its next use: compiled afresh each time)
      this.byRoute.set(route, c);
    }
    this.lastRoute = route;
    this.lastCompiled = c;
    return c;
  }
}

const functionIds = new WeakMap<object, number>();
let functionCount = 0;

interface Compiled {
  readonly normal: NormalRoute;
  readonly strategyName: string;
  readonly strategy: Strategy;
  readonly state: StrategyState;
  /** Reused for every choice (a strategy must not keep it). */
  readonly message: { type: string; key: string | undefined };
  policy: RetryPolicy | undefined;
  /** Its strategy's counters on this thread (router/metrics.ts). */
  readonly counts: RouteCounts;
}


function eligible(view: View, purpose: Purpose, tried: Set<string> | undefined, keyed: boolean): readonly RouteCandidate[] {
  // A key stays with its actor while it restarts (its mail is held), or every restart would move its conversations.
  if (keyed && (tried === undefined || tried.size === 0) && view.sticky.length > 0) return view.sticky;
  const tiers = purpose === 'ask' ? [view.healthy, view.restarting] : [view.healthy, view.restarting, view.halfOpen];
  for (const tier of tiers) {
    if (tier.length === 0) continue;
    if (tried === undefined || tried.size === 0) return tier;
    const fresh = tier.filter((c) => !tried.has(c.id));
    if (fresh.length > 0) return fresh;
  }
  // Everyone was tried: a retry may go back to one of them (a restarted actor, say).
  return tried !== undefined && tried.size > 0 ? (view.healthy.length > 0 ? view.healthy : view.restarting) : [];
}

/** The target refused the message without handling it (not there, circuit open...): never the message's fault. */
function isRefusal(err: unknown): boolean {
  const code = (err as TroupeError)?.code;
  return code === 'ERR_ACTOR_NOT_FOUND' || code === 'ERR_CIRCUIT_OPEN' || code === 'ERR_WORKER_LOST';
}

/** A send that failed this way may still have been journaled by its target. */
function isAmbiguous(err: unknown): boolean {
  const code = (err as TroupeError)?.code;
  return code === 'ERR_ASK_TIMEOUT' || code === 'ERR_WORKER_LOST';
}

function retryAfter(err: unknown): number | undefined {
  const d = (err as TroupeError)?.details;
  return typeof d?.retryInMs === 'number' ? d.retryInMs : undefined;
}

function describe(r: NormalRoute): string {
  return r.required.map((c) => `'${c}'`).join(' + ');
}

function info(c: RouteCandidate): MemberInfo {
  return {
    id: c.id, kind: c.kind, node: c.node, capabilities: c.capabilities, health: c.health, load: c.queued + c.inFlight,
    latencyMs: c.latencyMs, successRate: c.successRate, weight: c.weight,
  };
}
