// One Troupe node in a process of its own (for the tests that kill or pause a node): started with the cluster
// options as JSON in argv[2]; answers the parent's IPC requests { req, op, ... } with { req, ok, value | error }.
import '../../../cluster/index.ts';
import { Runtime } from '../../../runtime/index.ts';
import { clusterOf, spawnFailover } from '../../../cluster/index.ts';
import { account } from '../failover-actors.ts';
import { notebook } from '../fixtures.ts';

const cluster = JSON.parse(process.argv[2]!);
const rt = await Runtime.start({ workers: 1, cluster });
const ops: Record<string, (m: Record<string, unknown>) => Promise<unknown> | unknown> = {
  spawnFailover: (m) => spawnFailover(rt, account, { id: m.id as string, snapshotEvery: m.snapshotEvery as number | undefined }),
  spawnMany: async (m) => {
    for (let i = 0; i < (m.count as number); i++) await spawnFailover(rt, account, { id: `${m.prefix as string}${i}` });
  },
  hosted: () => clusterOf(rt).failover.hostedIds(),
  /**
   * A supervision tree whose children `ids` are cluster-owned (failover), with one plain child beside them; with
   * `capabilities`, child `id` offers `cap-<id>`.
   */
  superviseOwned: async (m) => {
    const ids = m.ids as string[];
    const capabilities = (id: string) => (m.capabilities === true ? { capabilities: [`cap-${id}`] } : {});
    const sup = await rt.supervise({
      id: m.tree as string,
      children: [...ids.map((id) => ({ id, actor: account, failover: true, ...capabilities(id) })), { id: `${m.tree as string}-plain`, actor: notebook }],
    });
    return sup.children().map((c) => c.id);
  },
  spawnMember: async (m) => (await rt.spawn(notebook, { id: m.id as string, capabilities: m.capabilities as string[] })).id,
  stats: () => clusterOf(rt).failover.stats(),
  shutdown: async () => {
    await rt.shutdown();
    setImmediate(() => process.exit(0));
  },
};
process.on('message', (m: Record<string, unknown>) => {
  void Promise.resolve()
    .then(() => ops[m.op as string]!(m))
    .then((value) => process.send!({ req: m.req, ok: true, value }), (err: Error) => process.send!({ req: m.req, ok: false, error: String(err?.message ?? err) }));
});
process.send!({ ready: true, pid: process.pid });
