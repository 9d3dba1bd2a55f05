import type { Runtime } from '../runtime/runtime.ts';
import type { ActorStats } from '../runtime/stats.ts';
import type { ChildInfo, Supervisor } from '../supervisors/supervisor.ts';
import { defaults } from '../supervisors/spec.ts';

/** One node of the supervision tree as the admin API and the web view show it. */
export interface TreeNode {
  id: string;
  type: 'supervisor' | 'actor';
  status: string;
  restarts?: number;
  /** Actors: where they run and what their thread says of them now. */
  kind?: string;
  node?: number;
  phase?: string;
  mailboxDepth?: number;
  handled?: number;
  incarnation?: number;
  circuit?: ChildInfo['circuit'];
  strategy?: string;
  children?: TreeNode[];
}

/** The runtime's roots and their children, recursively, each actor merged with its thread's stats. */
export function supervisionTree(runtime: Runtime, stats: Map<string, ActorStats>): TreeNode[] {
  const walk = (sup: Supervisor, status: string, restarts?: number): TreeNode => {
    const node: TreeNode = { id: sup.id, type: 'supervisor', status, strategy: sup.spec.strategy ?? 'one-for-one', children: [] };
    if (restarts !== undefined) node.restarts = restarts;
    for (const c of sup.children()) {
      const sub = c.type === 'supervisor' ? sup.child(c.id) : undefined;
      if (sub !== undefined) {
        node.children!.push(walk(sub, c.status, c.restarts));
        continue;
      }
      const leaf: TreeNode = { id: c.id, type: 'actor', status: c.status, restarts: c.restarts };
      if (c.circuit !== undefined) leaf.circuit = c.circuit;
      // A breaker is made at its first trip: until then a circuit-mode child's circuit is closed.
      else if (sup.spec.onExhausted === 'open-circuit') leaf.circuit = { state: 'closed', resetTimeoutMs: { ...defaults.circuit, ...sup.spec.circuit }.resetMs, trips: 0 };
      if (c.node !== undefined) leaf.node = c.node;
      const s = stats.get(c.id);
      if (s !== undefined) Object.assign(leaf, { kind: s.kind, node: s.node, phase: s.phase, mailboxDepth: s.mailboxDepth, handled: s.handled, incarnation: s.incarnation });
      node.children!.push(leaf);
    }
    return node;
  };
  return runtime.supervisors().map((root) => walk(root, root.status));
}

/** Every actor child in the tree, with its supervisor's id (for circuits). */
export function* actorLeaves(nodes: TreeNode[], parent = ''): Generator<TreeNode & { supervisor: string }> {
  for (const n of nodes) {
    if (n.type === 'actor') yield { ...n, supervisor: parent };
    else yield* actorLeaves(n.children ?? [], n.id);
  }
}

/** Every actor's stats by id (one stats round over the threads). */
export async function actorStats(runtime: Runtime): Promise<Map<string, ActorStats>> {
  const stats = await runtime.stats({ actors: true });
  const byId = new Map<string, ActorStats>();
  for (const n of stats.nodes) for (const a of n.actors) byId.set(a.id, a);
  return byId;
}
