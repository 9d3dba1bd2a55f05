import type { Directory, Member } from '../runtime/directory.ts';
import type { Candidate, Health } from './types.ts';
import type { NormalRoute } from './route.ts';
import { Observations, type Observed } from './observe.ts';
import { panicFilter } from './policy/ejection.ts';

/**
 * One candidate of one candidate set, as this thread sees it: an object kept between choices (a choice reads its
 * fields, nothing is built per message), its dynamic fields read live.
 */
export class RouteCandidate implements Candidate {
  readonly id: string;
  readonly kind: string;
  readonly node: number;
  readonly capabilities: readonly string[];
  readonly ref: { readonly id: string; readonly kind: string; readonly node: number };
  /** The tier of the current view it is in (View.healthy...): lets the router check a strategy's choice in O(1). */
  tier: readonly RouteCandidate[] | undefined;
  constructor(readonly member: Member, readonly preferred: number, readonly observed: Observed, private readonly probe: (() => number) | undefined, private readonly table: RoutingTable) {
    this.id = member.id;
    this.kind = member.kind;
    this.node = member.node;
    this.capabilities = member.capabilities;
    this.ref = Object.freeze({ id: member.id, kind: member.kind, node: member.node });
  }
  /** Exact for an actor on this thread; 0 for others (their load shows as this thread's asks in flight). */
  get queued(): number {
    return this.probe === undefined ? 0 : this.probe();
  }
  get inFlight(): number {
    return this.observed.inFlight;
  }
  get health(): Health {
    return this.table.health(this);
  }
  get latencyMs(): number {
    return this.table.observations.latency.latency(this.id, this.table.now());
  }
  get successRate(): number {
    return this.table.observations.success.rate(this.id);
  }
  get weight(): number {
    return this.observed.weight;
  }
}

/** This thread sent the member its trial in its current half-open period. */
function trialPending(c: RouteCandidate): boolean {
  return c.observed.trialSent && c.observed.trialEpoch === c.member.epoch;
}

/** The candidates of one set, split by what they may receive (rebuilt when the directory or a health fact moves). */
export interface View {
  version: number;
  all: RouteCandidate[];
  /** What this thread observed of each of `all`, in order (the adaptive weights are computed over it). */
  observed: Observed[];
  /** Running, not ejected. */
  healthy: RouteCandidate[];
  /** Half-open (its one trial may go: asks and sends only) or restarting (mail is held for it). */
  halfOpen: RouteCandidate[];
  restarting: RouteCandidate[];
  /** Healthy and restarting together, for keyed routes (a key stays with its actor through a restart). */
  sticky: readonly RouteCandidate[];
  /** Earliest time an ejection ends (the view is rebuilt then). */
  rebuildAt: number;
}

/** The router's per-thread table: candidate sets by route, over the directory and this thread's observations. */
export class RoutingTable {
  private readonly views = new Map<string, View>();
  readonly observations: Observations;
  /** Bumped when a local health fact changes (an ejection, a trial sent). */
  private localVersion = 0;

  constructor(private readonly directory: Directory, private readonly probe: (id: string) => (() => number) | undefined, readonly now: () => number) {
    this.observations = new Observations(() => this.localVersion++);
  }

  private get version(): number {
    return this.directory.version * 1_000_003 + this.localVersion;
  }

  view(route: NormalRoute): View {
    let view = this.views.get(route.setKey);
    // The clock is read only while an ejection is due to end (most views have none).
    if (view !== undefined && view.version === this.version && (view.rebuildAt === Infinity || this.now() < view.rebuildAt)) return view;
    view = this.build(route, this.now(), view);
    this.views.set(route.setKey, view);
    return view;
  }

  health(c: RouteCandidate): Health {
    const phase = c.member.phase;
    if (phase !== 'running') return phase === 'half-open' && trialPending(c) ? 'trial' : phase;
    return this.observations.ejection.isEjected(c.id, this.now()) ? 'ejected' : 'healthy';
  }

  private build(route: NormalRoute, now: number, old: View | undefined): View {
    const previous = new Map(old?.all.map((c) => [c.id, c]));
    const members = this.members(route);
    const all: RouteCandidate[] = [];
    for (const m of members) {
      const kept = previous.get(m.id);
      if (kept !== undefined && kept.member === m && kept.node === m.node) {
        all.push(kept);
        continue;
      }
      let preferred = 0;
      for (const p of route.prefer) if (m.capabilities.includes(p)) preferred++;
      all.push(new RouteCandidate(m, preferred, this.observations.of(m.id), this.probe(m.id), this));
    }
    // Members gone from the directory for good: what was observed of them is dropped (an id may come back anew).
    for (const [id] of previous) if (this.directory.get(id) === undefined) this.observations.forget(id);
    const view: View = { version: this.version, all, observed: all.map((c) => c.observed), healthy: [], halfOpen: [], restarting: [], sticky: [], rebuildAt: Infinity };
    const ejected: RouteCandidate[] = [];
    for (const c of all) {
      const phase = c.member.phase;
      if (phase === 'running') {
        const until = this.observations.ejection.ejectedUntil(c.id, now);
        if (until !== undefined) {
          ejected.push(c);
          view.rebuildAt = Math.min(view.rebuildAt, until);
        } else view.healthy.push(c);
      } else if (phase === 'half-open') {
        if (!trialPending(c)) view.halfOpen.push(c);
      } else if (phase === 'restarting') view.restarting.push(c);
    }
    // Ejection never empties a set on its own (and below half healthy, balance over all: Envoy's panic mode).
    if (ejected.length > 0 && panicFilter([...view.healthy, ...ejected], view.healthy) !== view.healthy) view.healthy.push(...ejected);
    for (const c of all) c.tier = undefined;
    for (const tier of [view.healthy, view.halfOpen, view.restarting]) for (const c of tier) c.tier = tier;
    view.sticky = view.restarting.length === 0 ? view.healthy : [...view.healthy, ...view.restarting];
    return view;
  }

  /** Members offering every required capability (scanning the rarest capability's list). */
  private members(route: NormalRoute): Member[] {
    let rarest: readonly Member[] | undefined;
    for (const cap of route.required) {
      const list = this.directory.offeringCapability(cap);
      if (rarest === undefined || list.length < rarest.length) rarest = list;
    }
    if (route.required.length === 1) return [...(rarest ?? [])];
    return (rarest ?? []).filter((m) => route.required.every((cap) => m.capabilities.includes(cap)));
  }
}
