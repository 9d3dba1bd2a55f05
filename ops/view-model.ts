import type { ActorStats, NodeStats } from '../runtime/stats.ts';
import type { TreeNode } from './tree.ts';

/**
 * What the live web view shows, in a compact form sent over server-sent events: the supervisors, one row per actor
 * and one per thread. Each tick sends only the rows that changed since the previous tick (a diff), so a quiet
 * system of 10,000 actors costs next to nothing and a busy one at most one short row per actor per tick.
 * Pure: built from a tree, the threads' stats and the previous view.
 */

/** [id, supervisor id ('' when unsupervised), kind, thread, status, restarts, mailbox depth, circuit state] */
export type ActorRow = [string, string, string, number, string, number, number, string];
/** [id, parent supervisor id ('' for a root), status, strategy] */
export type SupervisorRow = [string, string, string, string];
/** [thread, event-loop utilization (0..1, 2 decimals), actors, heap MiB (1 decimal)] */
export type ThreadRow = [number, number, number, number];

export interface ViewState {
  supervisors: SupervisorRow[];
  actors: Map<string, ActorRow>;
  threads: ThreadRow[];
}

export interface ViewDiff {
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

export function buildView(roots: TreeNode[], nodes: NodeStats[], stats: Map<string, ActorStats>): ViewState {
  const supervisors: SupervisorRow[] = [];
  const actors = new Map<string, ActorRow>();
  const walk = (n: TreeNode, parent: string) => {
    if (n.type === 'supervisor') {
      supervisors.push([n.id, parent, n.status, n.strategy ?? '']);
      for (const c of n.children ?? []) walk(c, n.id);
      return;
    }
    const s = stats.get(n.id);
    const circuit = n.circuit?.state ?? (s !== undefined ? PHASE_CIRCUIT[s.phase] ?? 'closed' : 'closed');
    actors.set(n.id, [n.id, parent, s?.kind ?? n.kind ?? '', s?.node ?? n.node ?? -1, n.status, n.restarts ?? 0, s?.mailboxDepth ?? 0, circuit]);
  };
  for (const r of roots) walk(r, '');
  for (const s of stats.values()) {
    if (actors.has(s.id)) continue;
    actors.set(s.id, [s.id, '', s.kind, s.node, PHASE_STATUS[s.phase] ?? s.phase, 0, s.mailboxDepth, PHASE_CIRCUIT[s.phase] ?? 'closed']);
  }
  const threads: ThreadRow[] = nodes.map((n) => [n.node, Math.round(n.eventLoopUtilization * 100) / 100, n.actorCount, Math.round(n.heapUsedBytes / 104857.6) / 10]);
  return { supervisors, actors, threads };
}

export function diffView(prev: ViewState, next: ViewState): ViewDiff {
  const diff: ViewDiff = { actors: [], gone: [], threads: next.threads };
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

export function snapshotOf(state: ViewState): { supervisors: SupervisorRow[]; actors: ActorRow[]; threads: ThreadRow[] } {
  return { supervisors: state.supervisors, actors: [...state.actors.values()], threads: state.threads };
}

export const emptyView = (): ViewState => ({ supervisors: [], actors: new Map(), threads: [] });
