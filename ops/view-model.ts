import type { ActorStats, NodeStats } from '../runtime/stats.ts';
import type { TreeNode } from './tree.ts';

/**
 * What the live web view shows, in a compact form sent over server-sent events: the supervisors, one row per actor
 * and one per thread. Each tick sends only the rows that changed since the previous tick (a diff), so a quiet
 * system of 10,000 actors costs next to nothing and a busy one at most one short row per actor per tick.
 * Pure: built from a tree, the threads' stats and the previous view.
 */

/**
 * [id, supervisor (index into the names table, -1 when unsupervised), kind (index into names), thread,
 * status (index into STATUSES), restarts, mailbox depth, circuit state (index into CIRCUITS), position among its
 * supervisor's children (0 when unsupervised)]. Indices, not strings: the same few kind and supervisor names on
 * 10,000 rows would be most of the bytes.
 */
export type ActorRow = [string, number, number, number, number, number, number, number, number];

export const STATUSES = ['running', 'restarting', 'circuit-open', 'half-open', 'starting', 'stopping', 'stopped'] as const;
export const CIRCUITS = ['closed', 'open', 'half-open'] as const;

/** Kind and supervisor names, each given an index once for the life of the feed (so rows can name them by index). */
export class Names {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  of(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(name);
      this.index.set(name, i);
    }
    return i;
  }
}
/**
 * [id, parent supervisor id ('' for a root), status, strategy, position among its parent's children (roots: among
 * the roots)]. Positions keep the page in tree order: a supervisor's actors and sub-supervisors interleaved as
 * its spec lists them.
 */
export type SupervisorRow = [string, string, string, string, number];
/** [thread, event-loop utilization (0..1, 2 decimals), actors, heap MiB (1 decimal)] */
export type ThreadRow = [number, number, number, number];

export interface ViewState {
  /** How many names the table had when this view was built (a diff carries the ones added since). */
  names: number;
  supervisors: SupervisorRow[];
  actors: Map<string, ActorRow>;
  threads: ThreadRow[];
}

export interface ViewDiff {
  /** Names added since the previous tick, as [index, name]. */
  names?: Array<[number, string]>;
  /** Present when the supervisors changed (then the whole list: it is small). */
  supervisors?: SupervisorRow[];
  /** Rows new or changed. */
  actors: ActorRow[];
  /** Ids gone since the previous tick. */
  gone: string[];
  threads: ThreadRow[];
}

const PHASE_STATUS: Record<string, string> = { running: 'running', restarting: 'restarting', open: 'circuit-open', 'half-open': 'half-open', trial: 'half-open' };
const PHASE_CIRCUIT: Record<string, string> = { open: 'open', 'half-open': 'half-open', trial: 'half-open' };

const statusCode = (s: string): number => {
  const i = (STATUSES as readonly string[]).indexOf(s);
  return i < 0 ? 0 : i;
};
const circuitCode = (s: string): number => Math.max(0, (CIRCUITS as readonly string[]).indexOf(s));

export function buildView(roots: TreeNode[], nodes: NodeStats[], stats: Map<string, ActorStats>, names: Names): ViewState {
  const supervisors: SupervisorRow[] = [];
  const actors = new Map<string, ActorRow>();
  const walk = (n: TreeNode, parent: string, pos: number) => {
    if (n.type === 'supervisor') {
      supervisors.push([n.id, parent, n.status, n.strategy ?? '', pos]);
      (n.children ?? []).forEach((c, i) => walk(c, n.id, i));
      return;
    }
    const s = stats.get(n.id);
    const circuit = n.circuit?.state ?? (s !== undefined ? PHASE_CIRCUIT[s.phase] ?? 'closed' : 'closed');
    actors.set(n.id, [n.id, names.of(parent), names.of(s?.kind ?? n.kind ?? ''), s?.node ?? n.node ?? -1, statusCode(n.status), n.restarts ?? 0, s?.mailboxDepth ?? 0, circuitCode(circuit), pos]);
  };
  roots.forEach((r, i) => walk(r, '', i));
  for (const s of stats.values()) {
    if (actors.has(s.id)) continue;
    actors.set(s.id, [s.id, -1, names.of(s.kind), s.node, statusCode(PHASE_STATUS[s.phase] ?? s.phase), 0, s.mailboxDepth, circuitCode(PHASE_CIRCUIT[s.phase] ?? 'closed'), 0]);
  }
  const threads: ThreadRow[] = nodes.map((n) => [n.node, Math.round(n.eventLoopUtilization * 100) / 100, n.actorCount, Math.round(n.heapUsedBytes / 104857.6) / 10]);
  return { names: names.list.length, supervisors, actors, threads };
}

export function diffView(prev: ViewState, next: ViewState, names: Names): ViewDiff {
  const diff: ViewDiff = { actors: [], gone: [], threads: next.threads };
  if (next.names > prev.names) diff.names = names.list.slice(prev.names, next.names).map((n, i) => [prev.names + i, n]);
  if (JSON.stringify(prev.supervisors) !== JSON.stringify(next.supervisors)) diff.supervisors = next.supervisors;
  for (const [id, row] of next.actors) {
    const old = prev.actors.get(id);
    if (old === undefined || !sameRow(old, row)) diff.actors.push(row);
  }
  for (const id of prev.actors.keys()) if (!next.actors.has(id)) diff.gone.push(id);
  return diff;
}

function sameRow(a: ActorRow, b: ActorRow): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function snapshotOf(state: ViewState, names: Names): { names: string[]; supervisors: SupervisorRow[]; actors: ActorRow[]; threads: ThreadRow[] } {
  return { names: names.list.slice(0, state.names), supervisors: state.supervisors, actors: [...state.actors.values()], threads: state.threads };
}

export const emptyView = (): ViewState => ({ names: 0, supervisors: [], actors: new Map(), threads: [] });
