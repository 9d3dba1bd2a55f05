import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Runtime, type RuntimeOptions } from '../../../runtime/index.ts';
import { NatsServer } from './nats.ts';
import { NodeProcess } from './node-process.ts';

type ClusterFields = Exclude<RuntimeOptions['cluster'], undefined>;

/** What a cluster suite shares: its NATS server, and what it started (stopped after the suite). */
export interface ClusterSuite {
  readonly nats: NatsServer;
  /** A temp dir of the suite's own (data dirs, effects files), removed after it. */
  readonly dir: string;
  /** A runtime joined as `node`; `cluster` adds to or overrides the suite's options (heartbeatTtlS 2 by default). */
  node(node: string, cluster?: Partial<ClusterFields>, runtime?: Omit<RuntimeOptions, 'cluster'>): Promise<Runtime>;
  /** A node in a process of its own (support/node-main.ts), killable and pausable for real. */
  process(node: string, cluster: Record<string, unknown>, env?: Record<string, string>): Promise<NodeProcess>;
  /** Stopped with the suite, for what a test starts itself. */
  track<T extends Runtime | NodeProcess>(started: T): T;
}

/**
 * One real nats-server with JetStream per suite (started before its tests, stopped after them with every runtime
 * and node process started through the suite, then its temp dir removed). Call it at the top of a describe block:
 * `const suite = clusterSuite();`. `defaults` are cluster options for every `suite.node` (a `name` keeps tests of
 * one suite in clusters of their own).
 */
export function clusterSuite(options: { maxPayload?: number; defaults?: Partial<ClusterFields>; workers?: number } = {}): ClusterSuite {
  let nats: NatsServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'troupe-cluster-'));
  const runtimes: Runtime[] = [];
  const processes: NodeProcess[] = [];
  const suite: ClusterSuite = {
    get nats() {
      if (nats === undefined) throw new Error('the suite has not started its NATS server yet (use it inside tests or beforeAll)');
      return nats;
    },
    dir,
    async node(node, cluster = {}, runtime = {}) {
      const rt = await Runtime.start({
        workers: options.workers ?? 0, ...runtime,
        cluster: { servers: suite.nats.url, node, heartbeatTtlS: 2, ...options.defaults, ...cluster } as ClusterFields,
      });
      runtimes.push(rt);
      return rt;
    },
    async process(node, cluster, env = {}) {
      const p = await NodeProcess.start(node, cluster, env);
      processes.push(p);
      return p;
    },
    track(started) {
      if (started instanceof Runtime) runtimes.push(started);
      else processes.push(started as NodeProcess);
      return started;
    },
  };
  beforeAll(async () => {
    nats = await NatsServer.start({ maxPayload: options.maxPayload });
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    for (const rt of runtimes) await rt.shutdown().catch(() => {});
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return suite;
}
