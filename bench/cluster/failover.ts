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

const N = Number(process.env.TROUPE_BENCH_FAILOVER_N ?? 1000);
/** C3s (bench/cluster/failover-supervised.ts): the actors are the cluster-owned children of one supervision tree. */
const SUPERVISED = process.env.TROUPE_BENCH_FAILOVER_SUPERVISED === '1';
const TTL_S = 2;

const phase = (what: string) => process.env.TROUPE_CLUSTER_DEBUG && console.error(`${Math.round(performance.now())} ms: ${what}`);
const nats = await NatsServer.start();
const options = { servers: nats.url, name: 'bench', heartbeatTtlS: TTL_S };
const nodes = await Promise.all(['n1', 'n2', 'n3'].map((n) => NodeProcess.start(n, options)));
const driver = await Runtime.start({ workers: 0, cluster: { ...options, node: 'driver' } });
phase('nodes started');
const t0 = performance.now();
if (SUPERVISED) await nodes[0]!.request('superviseOwned', { tree: 'bank', ids: Array.from({ length: N }, (_, i) => `acct-${i}`) });
else await nodes[0]!.request('spawnMany', { prefix: 'acct-', count: N });
const spawnMs = performance.now() - t0;
const refs = await Promise.all(Array.from({ length: N }, async (_, i) => (await driver.lookup(`acct-${i}`))!));
await Promise.all(refs.map((ref, i) => driver.send(ref, 'deposit', 1, { messageId: `m-${i}` })));

phase('spawned and deposited');
const killedAt = performance.now();
await nodes[0]!.kill();
// TROUPE_BENCH_STARVE=stopMs/periodMs: the survivors run only part of the time (SIGSTOP/SIGCONT), as on a host
// whose cores other work takes (a way to reproduce what a loaded host does, without loading it).
const [stopMs, periodMs] = (process.env.TROUPE_BENCH_STARVE ?? '').split('/').map(Number);
const starver = stopMs! > 0 ? setInterval(() => {
  for (const n of nodes.slice(1)) n.signal('SIGSTOP');
  setTimeout(() => {
    for (const n of nodes.slice(1)) n.signal('SIGCONT');
  }, stopMs);
}, periodMs) : undefined;
let done = 0;
const unanswered = new Set(refs.map((r) => r.id));
type Stats = Record<string, { revision: number; received: number; applied: number; queued: number }>;
const progress = setInterval(() => process.env.TROUPE_CLUSTER_DEBUG && void (async () => {
  const stats: Array<[string, Stats]> = [
    ...await Promise.all(nodes.slice(1).map(async (n) => [n.name, await n.request<Stats>('stats').catch(() => ({}))] as [string, Stats])),
    ['driver', clusterOf(driver).failover.stats()],
  ];
  console.error(`${done}/${N} answered after ${Math.round(performance.now() - killedAt)} ms; hosted: ${stats.map(([n, s]) => `${n} ${Object.keys(s).length}`).join(', ')}`);
  const waiting = [...unanswered].slice(0, 8).map((id) => {
    const at = stats.filter(([, s]) => s[id] !== undefined).map(([n, s]) => `${n} ${JSON.stringify(s[id])}`);
    return `${id}: ${at.length === 0 ? 'hosted nowhere' : at.join(' | ')} (registry: ${JSON.stringify((clusterOf(driver) as unknown as { actors: { known(id: string): unknown } }).actors.known(id))})`;
  });
  for (const w of waiting) console.error(`  ${w}`);
})(), 5000);
const answered = await Promise.all(refs.map(async (ref) => {
  for (;;) {
    const state = await driver.ask(ref, 'state', undefined, { timeoutMs: 2000 }).catch(() => undefined) as { total: number } | undefined;
    if (state !== undefined) {
      if (state.total !== 1) throw new Error(`state after failover: ${JSON.stringify(state)}`);
      done++;
      unanswered.delete(ref.id);
      return performance.now() - killedAt;
    }
  }
}));
clearInterval(progress);
clearInterval(starver);
for (const n of nodes.slice(1)) n.signal('SIGCONT');
const allMs = Math.max(...answered);

phase('all answered');
for (const n of nodes) await n.stop();
phase('nodes stopped');
await driver.shutdown();
await nats.stop();

emit({
  rows: [
    makeRow({
      figure: SUPERVISED
        ? `C3s. failover: ${N} supervised actors (cluster-owned children of one tree) of a SIGKILLed node all answering on survivors (2 s lease)`
        : `C3. failover: ${N} actors of a SIGKILLed node all answering on survivors (2 s lease)`,
      unit: 'ms', baselineName: 'the lease (heartbeat TTL)',
      target: { on: 'troupe', op: '<', value: 5000 }, runs: { troupe: [allMs], baseline: [TTL_S * 1000] },
    }),
  ],
  detail: { n: N, spawnMs, firstAnswerMs: Math.min(...answered), allMs },
});
