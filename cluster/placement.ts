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
