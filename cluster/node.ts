import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import type { ClusterMembership, ClusterOptions, OwnedCrash, ThreadServices } from '../runtime/extensions.ts';
import { ClusterDisconnectedError, ClusterUnreachableError, NodeLostError } from './errors.ts';
import { clusterConfig, names, type ClusterConfig } from './options.ts';
import { ActorRegistry } from './registry.ts';
import { NodeRegistry } from './nodes.ts';
import { Remote } from './remote.ts';
import { Failover, type FailoverSpawnOptions } from './failover.ts';
import { Spawner } from './spawner.ts';
import { MemberTable } from './members.ts';
import { RemoteWatch } from './watch.ts';
import type { DirectoryChange } from '../runtime/directory.ts';
import type { ClusterView, RemoteSpawnOptions } from '../runtime/extensions.ts';
import type { Runtime } from '../runtime/runtime.ts';

/** The main thread's part of a node in the cluster (what `Runtime.start({ cluster })` joins through). */
export class ClusterNode implements ClusterMembership {
  readonly threadModule = new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url).href;
  private left = false;

  private constructor(
    readonly config: ClusterConfig,
    readonly nc: NatsConnection,
    private readonly nodes: NodeRegistry,
    private readonly actors: ActorRegistry,
    private readonly remote: Remote,
    /** Actors of this node: id -> local thread. */
    private readonly local: Map<string, number>,
    /** Failover actors (cluster/failover.ts). */
    readonly failover: Failover,
    /** Spawns on other nodes (cluster/spawner.ts). */
    readonly spawner: Spawner,
    /** The capability table across nodes (cluster/members.ts). */
    readonly capabilityTable: MemberTable,
    /** Watch and stop across nodes (cluster/watch.ts). */
    private readonly watches: RemoteWatch,
  ) {}

  get nodeId(): string {
    return this.config.node;
  }

  static async join(options: ClusterOptions, services: ThreadServices): Promise<ClusterNode> {
    const config = clusterConfig(options);
    const nc = await connectOrExplain(config);
    try {
      const kvm = new Kvm(nc);
      const n = names(config);
      const ttlMs = config.heartbeatTtlS * 1000;
      const [nodesKv, actorsKv, membersKv] = await Promise.all([
        kvm.create(n.nodesBucket, { ttl: ttlMs, history: 1 }),
        kvm.create(n.actorsBucket, { history: 1 }),
        kvm.create(`troupe_${config.name}_members`, { history: 1 }),
      ]);
      const local = new Map<string, number>();
      const nodes = new NodeRegistry(nodesKv, config.node, ttlMs, config.heartbeatEveryMs, services.clock, () => local.size);
      await nodes.join();
      const actors = new ActorRegistry(actorsKv, config.node, nodes.liveness);
      await actors.watch(() => services.clock.now());
      const remote = new Remote(nc, services, actors, config.node, n, local, (node) => nodes.alive(node), config.whenDisconnected === 'fail');
      const failover = await Failover.open(nc, config.name, config.node, ttlMs, services, actors, nodes, remote);
      const spawner = new Spawner(nc, (peer) => `troupe.${config.name}.spawn.${peer}`, config.node, nodes, () => local.size, config.placement, config.spawnTimeoutMs);
      const members = new MemberTable(membersKv, config.node, nodes, (id) => local.has(id), (id) => failover.incarnations.has(id), Math.max(50, ttlMs / 2));
      await members.watch(() => services.clock.now());
      failover.directory = members;
      const p = `troupe.${config.name}`;
      const watches = new RemoteWatch(nc, { ctl: (peer) => `${p}.ctl.${peer}`, notice: (peer) => `${p}.notice.${peer}` }, config.node, actors, local, failover, services, (peer) => nodes.alive(peer));
      const node = new ClusterNode(config, nc, nodes, actors, remote, local, failover, spawner, members, watches);
      services.onRemoteActors(watches);
      remote.start();
      services.onMiss(remote.miss);
      nodes.onGone((peer) => remote.failWaiting(new NodeLostError(`node ${peer} left the cluster before replying`), peer));
      nodes.onGone((peer) => members.nodeGone(peer));
      nodes.onGone((peer) => watches.nodeGone(peer));
      node.watchConnection(services);
      await nc.flush();
      return node;
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
  }

  private watchConnection(_services: ThreadServices): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') {
          this.remote.connected = false;
          if (this.config.whenDisconnected === 'fail') this.remote.failWaiting(new ClusterDisconnectedError('the connection to NATS was lost before the reply came'));
        } else if (s.type === 'reconnect') this.remote.reconnected();
      }
    })().catch(() => {});
  }

  async started(runtime: unknown): Promise<void> {
    this.failover.started(runtime as Runtime);
    this.spawner.start(runtime as Runtime);
    this.watches.start(runtime as Runtime);
    // Once start resolves, this node takes spawns: its subscriptions have reached the server.
    await this.nc.flush();
  }

  directoryChanged(change: DirectoryChange): void {
    this.capabilityTable.changed(change);
  }

  attachDirectory(apply: (change: DirectoryChange) => void): void {
    this.capabilityTable.attach(apply);
  }

  spawnElsewhere(module: string, kind: string, options: RemoteSpawnOptions): Promise<ActorRef | undefined> {
    if (options.id !== undefined && this.failover.incarnations.has(options.id)) return Promise.resolve(undefined); // hosted here
    return this.spawner.spawnElsewhere(module, kind, options);
  }

  spawnOwned(def: ActorDefinition, options: FailoverSpawnOptions, crashed: OwnedCrash): Promise<ActorRef> {
    return this.failover.spawnOwned(def, options, crashed);
  }

  resumeOwned(id: string): void {
    this.failover.resume(id);
  }

  trialOwned(id: string, succeeded: () => void): void {
    this.failover.trial(id, succeeded);
  }

  async reserve(id: string, kind: string): Promise<void> {
    if (this.failover.incarnations.has(id)) return; // a failover actor's incarnation: its public id is claimed
    await this.actors.claim(id, kind);
  }

  placed(id: string, _kind: string, node: number): void {
    this.local.set(id, node);
  }

  released(id: string): void {
    if (this.left) return;
    this.local.delete(id);
    this.actors.release(id);
  }

  async lookup(id: string): Promise<ActorRef | undefined> {
    const owner = await this.actors.resolve(id);
    if (owner === undefined || owner.node === this.config.node || !this.nodes.alive(owner.node)) return undefined;
    // Thread 0 of this node: the main thread publishes it to the owner (from a worker, one hop saved).
    return Object.freeze({ id, kind: owner.kind, node: 0 });
  }

  view(): ClusterView {
    const loads = this.spawner.loads();
    const members = this.capabilityTable.countByNode();
    const nodes = [...loads].map(([id, load]) => {
      const rec = this.nodes.records.get(id);
      return { id, alive: load.alive, self: id === this.config.node, actors: load.actors, members: members.get(id) ?? 0, pid: id === this.config.node ? process.pid : rec?.pid, joinedAt: rec?.joinedAt };
    });
    nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { name: this.config.name, node: this.config.node, nodes };
  }

  /** The other nodes watching actor `id` of this node (cluster/watch.ts). */
  watchersOf(id: string): string[] {
    return this.watches.watchersOf(id);
  }

  /** Whether the connection to NATS is up, and how many messages wait for it (`whenDisconnected: 'wait'`). */
  connection(): { connected: boolean; parked: number } {
    return { connected: this.remote.connected, parked: this.remote.outbox?.parked ?? 0 };
  }

  /** The live nodes as this node sees them. */
  members(): string[] {
    return this.nodes.liveness.nodes().sort();
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.failover.close();
    this.spawner.close();
    this.watches.close();
    this.remote.close();
    this.actors.close();
    await this.capabilityTable.close();
    await this.actors.releaseAll();
    await this.nodes.leave();
    await this.nc.drain().catch(() => this.nc.close());
  }
}

async function connectOrExplain(config: ClusterConfig): Promise<NatsConnection> {
  try {
    return await connect({
      servers: config.servers, name: `troupe-${config.name}-${config.node}`, timeout: config.connectTimeoutMs,
      maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, pingInterval: 10_000,
    });
  } catch (err) {
    throw new ClusterUnreachableError(`cannot reach NATS at ${config.servers.join(', ')}: ${(err as Error)?.message ?? err}`, { cause: err, details: { servers: config.servers } });
  }
}
