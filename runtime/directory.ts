/**
 * Who offers which capabilities, and how healthy each is: one copy on every thread, so a message routed by
 * capability is sent from its sender's thread without a hop (router/). The main thread owns the registry and is
 * the one source of changes: it applies each change here at once and posts them to the workers in one control per
 * turn (`Runtime`). Only actors that offer a capability are members; the others cost nothing here.
 */

/**
 * A member's health as its supervisor last decided it (unsupervised actors are always 'running'), or 'draining': it is
 * about to be stopped (a pool shrinking) and takes no new routed messages while it finishes its queued ones.
 */
export type MemberPhase = 'running' | 'restarting' | 'open' | 'half-open' | 'draining';

export interface Member {
  readonly id: string;
  readonly kind: string;
  readonly node: number;
  readonly capabilities: readonly string[];
  phase: MemberPhase;
  /** Bumped on every phase change: tells one half-open period from the next (the router's one trial per period). */
  epoch: number;
}

/** One change, as posted between threads (flat tuples: many of them go in one post). */
export type DirectoryChange =
  | ['join', string, string, number, readonly string[], MemberPhase]
  | ['phase', string, MemberPhase]
  | ['leave', string];

export class Directory {
  private readonly members = new Map<string, Member>();
  private readonly offering = new Map<string, Member[]>();
  /** Bumped on every change: whoever caches a view of the members (the router) rebuilds it when this moves. */
  version = 0;

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  /** The members offering `capability`: read-only, and changed in place by the next change (see `version`). */
  offeringCapability(capability: string): readonly Member[] {
    return this.offering.get(capability) ?? EMPTY;
  }

  /** Every capability some member offers. */
  capabilities(): IterableIterator<string> {
    return this.offering.keys();
  }

  /** Every member as 'join' changes: what a thread connected later starts from. */
  snapshot(): DirectoryChange[] {
    return [...this.members.values()].map((m) => ['join', m.id, m.kind, m.node, m.capabilities, m.phase]);
  }

  clear(): void {
    this.members.clear();
    this.offering.clear();
    this.version++;
  }

  apply(change: DirectoryChange): void {
    switch (change[0]) {
      case 'join':
        return this.join({ id: change[1], kind: change[2], node: change[3], capabilities: change[4], phase: change[5], epoch: 0 });
      case 'phase': {
        const m = this.members.get(change[1]);
        if (m !== undefined && m.phase !== change[2]) {
          m.phase = change[2];
          m.epoch++;
          this.version++;
        }
        return;
      }
      case 'leave':
        return this.leave(change[1]);
    }
  }

  private join(member: Member): void {
    if (this.members.has(member.id)) this.leave(member.id);
    this.members.set(member.id, member);
    for (const cap of member.capabilities) {
      const list = this.offering.get(cap);
      if (list === undefined) this.offering.set(cap, [member]);
      else list.push(member);
    }
    this.version++;
  }

  private leave(id: string): void {
    const m = this.members.get(id);
    if (m === undefined) return;
    this.members.delete(id);
    for (const cap of m.capabilities) {
      const rest = (this.offering.get(cap) ?? EMPTY).filter((x) => x !== m);
      if (rest.length === 0) this.offering.delete(cap);
      else this.offering.set(cap, rest);
    }
    this.version++;
  }
}

const EMPTY: readonly Member[] = Object.freeze([]);
