// Cluster figure C3: N failover actors (cluster/failover.ts) owned by a node that is killed with SIGKILL; the time
// from the kill until every one of them has answered an ask from a survivor, with a 2 s heartbeat TTL (the lease).
// Three node processes and this one (the driver, a node too) on a real nats-server.
import '../lib/env.ts';
import { clusterOf } from '../../cluster/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { NatsServer } from '../../test/cluster/support/nats.ts';
import { NodeProcess } from '../../test/cluster/support/node-process.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = Number(process.env.TROUPE_BENCH_FAILOVER_N ?? 500);
const TTL_S = 2;

const nats = await NatsServer.start();
const options = { servers: nats.url, name: 'bench', heartbeatTtlS: TTL_S };
const nodes = await Promise.all(['n1', 'n2', 'n3'].map((n) => NodeProcess.start(n, options)));
const driver = await Runtime.start({ workers: 0, cluster: { ...options, node: 'driver' } });
const t0 = performance.now();
await nodes[0]!.request('spawnMany', { prefix: 'acct-', count: N });
const spawnMs = performance.now() - t0;
const refs = await Promise.all(Array.from({ length: N }, async (_, i) => (await driver.lookup(`acct-${i}`))!));
await Promise.all(refs.map((ref, i) => driver.send(ref, 'deposit', 1, { messageId: `m-${i}` })));

const killedAt = performance.now();
await nodes[0]!.kill();
let done = 0;
const progress = setInterval(() => process.env.TROUPE_CLUSTER_DEBUG && void (async () => {
  const hosted = await Promise.all(nodes.slice(1).map((n) => n.request<string[]>('hosted').then((h) => h.length, () => -1)));
  console.error(`${done}/${N} answered after ${Math.round(performance.now() - killedAt)} ms; hosted by n2, n3: ${hosted.join(', ')}; the driver: ${clusterOf(driver).failover.hostedIds().length}`);
})(), 5000);
const answered = await Promise.all(refs.map(async (ref) => {
  for (;;) {
    const state = await driver.ask(ref, 'state', undefined, { timeoutMs: 2000 }).catch(() => undefined) as { total: number } | undefined;
    if (state !== undefined) {
      if (state.total !== 1) throw new Error(`state after failover: ${JSON.stringify(state)}`);
      done++;
      return performance.now() - killedAt;
    }
  }
}));
clearInterval(progress);
const allMs = Math.max(...answered);

for (const n of nodes) await n.stop();
await driver.shutdown();
await nats.stop();

emit({
  rows: [
    makeRow({
      figure: `C3. failover: ${N} actors of a SIGKILLed node all answering on survivors (2 s lease)`, unit: 'ms', baselineName: 'the lease (heartbeat TTL)',
      target: { on: 'troupe', op: '<', value: 5000 }, runs: { troupe: [allMs], baseline: [TTL_S * 1000] },
    }),
  ],
  detail: { n: N, spawnMs, firstAnswerMs: Math.min(...answered), allMs },
});
