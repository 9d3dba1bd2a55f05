// The cluster layer: Runtime.start({ cluster: { servers, node } }) joins runtimes on other machines through NATS
// JetStream (docs/cluster.md). Importing this module installs it; the kernel never imports it.
import { registerCluster } from '../runtime/extensions.ts';
import { ClusterNode } from './node.ts';

registerCluster((options, services) => ClusterNode.join(options, services));

export { ClusterNode } from './node.ts';
export { clusterOf, spawnFailover } from './api.ts';
export * from './errors.ts';
export type { ClusterConfig } from './options.ts';
export type { FailoverSpawnOptions } from './failover.ts';
