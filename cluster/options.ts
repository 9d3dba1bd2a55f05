import type { ClusterOptions } from '../runtime/extensions.ts';
import { InvalidClusterOptionError } from './errors.ts';

/** Everything `Runtime.start({ cluster })` accepts, with its defaults filled in. */
export interface ClusterConfig {
  /** NATS server URLs, e.g. 'nats://127.0.0.1:4222'. */
  servers: string[];
  /** This process's node id in the cluster: unique among live nodes ([A-Za-z0-9_-], at most 64). */
  node: string;
  /** Several clusters can share one NATS: subjects and buckets are prefixed with this name (default 'troupe'). */
  name: string;
  /** A node not heard of for this long is gone (node registry TTL; default 6 s). */
  heartbeatTtlS: number;
  /** How often a node heartbeats (default a third of the TTL). */
  heartbeatEveryMs: number;
  /** How long joining may wait for NATS before ClusterUnreachableError (default 2000 ms). */
  connectTimeoutMs: number;
  /** While the connection is down: 'fail' remote calls at once (default), or 'wait' (parked until it is back: cluster/outbox.ts; asks keep their timeouts). */
  whenDisconnected: 'fail' | 'wait';
  /** Where a spawn that names no node starts: 'local' (default) or 'least-loaded' (cluster/placement.ts). */
  placement: 'local' | 'least-loaded';
  /** How long a spawn on another node may take before SpawnTimeoutError (default 15000 ms). */
  spawnTimeoutMs: number;
}

const keys = new Set(['servers', 'node', 'name', 'heartbeatTtlS', 'heartbeatEveryMs', 'connectTimeoutMs', 'whenDisconnected', 'placement', 'spawnTimeoutMs']);
const token = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws InvalidClusterOptionError naming the first bad option. */
export function clusterConfig(options: ClusterOptions): ClusterConfig {
  const fail = (msg: string): never => {
    throw new InvalidClusterOptionError(`cluster: ${msg}`);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const key of Object.keys(options)) if (!keys.has(key)) fail(`unknown option '${key}'`);
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0)) {
    fail('servers must be a NATS URL or a non-empty array of them');
  }
  if (typeof options.node !== 'string' || !token.test(options.node)) fail('node must be 1-64 characters of A-Z a-z 0-9 _ -');
  const name = options.name ?? 'troupe';
  if (typeof name !== 'string' || !token.test(name)) fail('name must be 1-64 characters of A-Z a-z 0-9 _ -');
  const ttl = options.heartbeatTtlS ?? 6;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > 3600) fail('heartbeatTtlS must be a number of seconds from 1 to 3600');
  const every = options.heartbeatEveryMs ?? Math.round(((ttl as number) * 1000) / 3);
  if (typeof every !== 'number' || !(every >= 50) || every >= (ttl as number) * 1000) fail('heartbeatEveryMs must be at least 50 and below the TTL');
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) fail('connectTimeoutMs must be a positive number');
  const when = options.whenDisconnected ?? 'fail';
  if (when !== 'fail' && when !== 'wait') fail("whenDisconnected must be 'fail' or 'wait'");
  const placement = options.placement ?? 'local';
  if (placement !== 'local' && placement !== 'least-loaded') fail("placement must be 'local' or 'least-loaded'");
  const spawnTimeoutMs = options.spawnTimeoutMs ?? 15_000;
  if (typeof spawnTimeoutMs !== 'number' || !(spawnTimeoutMs > 0)) fail('spawnTimeoutMs must be a positive number');
  return {
    servers: servers as string[], node: options.node as string, name: name as string, heartbeatTtlS: ttl as number,
    heartbeatEveryMs: every as number, connectTimeoutMs: connectTimeoutMs as number, whenDisconnected: when as 'fail' | 'wait',
    placement: placement as 'local' | 'least-loaded', spawnTimeoutMs: spawnTimeoutMs as number,
  };
}

/** Subjects and bucket names of one cluster (NATS tokens: the options above keep them valid). */
export function names(config: Pick<ClusterConfig, 'name'>) {
  const p = `troupe.${config.name}`;
  return {
    /** Messages to actors of node `n` (one subscriber: that node's main thread). */
    inbox: (n: string) => `${p}.node.${n}`,
    /** Replies to asks and sends made on node `n`. */
    replies: (n: string) => `${p}.reply.${n}`,
    nodesBucket: `troupe_${config.name}_nodes`,
    actorsBucket: `troupe_${config.name}_actors`,
  };
}
