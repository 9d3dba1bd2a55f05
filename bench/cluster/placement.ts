// Cluster figures C4-C5, two nodes in this process on a real nats-server (Debian's) on a free loopback port:
// C4 a routed ask (`{ capability }`) to an actor of the other node against an ask by ref to the same actor (what the
// capability table across nodes adds); C5 `spawn(def, { node })` on the other node against a spawn on this node
// (both claim the id in the cluster registry). Interleaved in one run.
import '../lib/env.ts';
import '../../router/index.ts';
import '../../cluster/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { NatsServer } from '../../test/cluster/support/nats.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { sequentialLatency } from '../lib/stats.ts';
import { sink } from './actors.ts';

const ASKS = 2_000;
const SPAWNS = 200;

const nats = await NatsServer.start();
const cluster = (node: string) => ({ servers: nats.url, node, heartbeatTtlS: 10 });
const a = await Runtime.start({ workers: 0, cluster: cluster('pa') });
const b = await Runtime.start({ workers: 0, cluster: cluster('pb') });
const target = await b.spawn(sink, { id: 'sink-b', capabilities: ['sink'] });
const byRef = (await a.lookup(target.id))!;
const route = a.router({ capability: 'sink' });
for (let t0 = Date.now(); a.capabilities('sink').length === 0; ) {
  if (Date.now() - t0 > 10_000) throw new Error('the member of pb never reached pa');
  await new Promise((r) => setTimeout(r, 20));
}

const asks = await interleave({ warmup: 1, runs: 5 }, {
  routed: () => sequentialLatency(ASKS, () => a.ask(route, 'get')),
  byRef: () => sequentialLatency(ASKS, () => a.ask(byRef, 'get')),
});
let n = 0;
const spawns = await interleave({ warmup: 1, runs: 5 }, {
  remote: () => sequentialLatency(SPAWNS, () => a.spawn(sink, { id: `r-${n++}`, node: 'pb' })),
  local: () => sequentialLatency(SPAWNS, () => a.spawn(sink, { id: `l-${n++}` })),
});

await a.shutdown();
await b.shutdown();
await nats.stop();

emit({
  rows: [
    makeRow({ figure: 'C4. routed ask ({ capability }) to an actor of another node, p50', unit: 'us', baselineName: 'ask by ref to the same actor', runs: { troupe: asks.routed.map((l) => l.p50), baseline: asks.byRef.map((l) => l.p50) } }),
    makeRow({ figure: "C5. spawn(def, { node }) on another node, p50", unit: 'us', baselineName: 'spawn on this node (same cluster: the id claimed in KV too)', runs: { troupe: spawns.remote.map((l) => l.p50), baseline: spawns.local.map((l) => l.p50) } }),
  ],
});
