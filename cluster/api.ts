import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { InvalidClusterOptionError } from './errors.ts';
import type { FailoverSpawnOptions } from './failover.ts';
import { ClusterNode } from './node.ts';

/** The cluster node a runtime joined (`Runtime.start({ cluster })`); throws when it joined none. */
export function clusterOf(runtime: Runtime): ClusterNode {
  const node = runtime.clusterMembership;
  if (!(node instanceof ClusterNode)) throw new InvalidClusterOptionError('this runtime was started without { cluster }');
  return node;
}

/**
 * Spawn a failover actor on this node: its mail is journaled in JetStream before it is handled, and when this node
 * dies a surviving node hosts it again with its state rebuilt from the journal (cluster/failover.ts). Its handlers
 * must be deterministic functions of state and message (the journal is replayed into a fresh incarnation).
 * `snapshotEvery` (default 100, 0: never): its state is snapshotted to JetStream every that many journaled messages,
 * and the journal trimmed up to the snapshot, so a takeover replays the snapshot and the journal's tail only.
 * `capabilities`: offered on top of the definition's (routing by capability), on whichever node hosts it.
 */
export function spawnFailover<D extends ActorDefinition>(runtime: Runtime, def: D, options: FailoverSpawnOptions): Promise<ActorRef<D>> {
  return clusterOf(runtime).failover.spawn(def, options);
}
