import { createHash } from 'node:crypto';

/**
 * Which live node should take an orphaned id first (rendezvous hashing: the highest hash of id and node wins), so
 * survivors share a dead node's actors instead of racing for every one (the others wait, then race: nobody is left
 * out when the preferred node dies too). Pure.
 */
export function preferredNode(id: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const node of nodes) {
    const score = createHash('sha1').update(`${id}\0${node}`).digest('hex');
    if (best === undefined || score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** What placement knows of one node: alive or not (a node once seen stays known), and the actors it hosts. */
export interface NodeLoad {
  alive: boolean;
  /** Actors it said it hosted at its last heartbeat, plus those this node sent it since (not in that count yet). */
  actors: number;
}

export type NodeChoice = { node: string } | { unknown: string } | { down: string };

/**
 * Which node a new actor starts on (a pure policy): the node named, if it is known and alive; else by `placement`,
 * this node ('local') or the live node with the fewest actors ('least-loaded'; ties go to this node, which saves a
 * hop, then to the lowest id, so equal loads are deterministic).
 */
export function chooseNode(request: { node?: string; placement: 'local' | 'least-loaded' }, self: string, nodes: ReadonlyMap<string, NodeLoad>): NodeChoice {
  if (request.node !== undefined) {
    const known = request.node === self ? { alive: true, actors: 0 } : nodes.get(request.node);
    if (known === undefined) return { unknown: request.node };
    return known.alive ? { node: request.node } : { down: request.node };
  }
  if (request.placement === 'local') return { node: self };
  let best = self;
  let bestLoad = nodes.get(self)?.actors ?? Infinity;
  for (const [node, load] of nodes) {
    if (!load.alive || node === self) continue;
    if (load.actors < bestLoad || (load.actors === bestLoad && best !== self && node < best)) {
      best = node;
      bestLoad = load.actors;
    }
  }
  return { node: best };
}
