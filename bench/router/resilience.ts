// Router figure R5: resilience. Four services, one throwing on every other message; 2,000 sequential routed asks
// with the default retry policy under weighted-adaptive routing. Reports the share of asks that succeeded (target
// >= 99.9%) and the failing actor's share of traffic in messages 1,001-2,000 (target < 10%); baseline: its share
// under round-robin, in the same run.
import '../lib/env.ts';
import '../../router/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { service } from './actors.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';

const N = 2_000;
const RUNS = 3;

async function handledBy(rt: Runtime): Promise<Map<string, number>> {
  const stats = await rt.stats();
  return new Map(stats.nodes.flatMap((n) => n.actors).map((a) => [a.id, a.handled]));
}

async function run(strategy: string): Promise<{ success: number; share: number }> {
  const rt = await Runtime.start({ workers: 2 });
  for (let i = 0; i < 4; i++) await rt.spawn(service, { id: `svc-${i}`, args: { ms: 0, flaky: i === 0 } });
  const route = Object.freeze({ capability: 'serve', strategy });
  let ok = 0;
  let half = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    if (i === N / 2) half = await handledBy(rt);
    try {
      await rt.ask(route, 'call', i);
      ok++;
    } catch {
      // a routed ask that failed after its retries
    }
  }
  const end = await handledBy(rt);
  await rt.shutdown();
  let total = 0;
  for (const [id, n] of end) total += n - (half.get(id) ?? 0);
  return { success: ok / N, share: ((end.get('svc-0') ?? 0) - (half.get('svc-0') ?? 0)) / total };
}

const adaptive: Array<{ success: number; share: number }> = [];
const rr: Array<{ success: number; share: number }> = [];
for (let i = 0; i < RUNS; i++) {
  adaptive.push(await run('weighted-adaptive'));
  rr.push(await run('round-robin'));
}
emit({
  rows: [
    makeRow({ figure: 'R5a. routed asks succeeding, 1 of 4 actors failing half its messages (weighted-adaptive, default retries)', unit: '%', baselineName: 'round-robin', target: { on: 'troupe', op: '>=', value: 0.999 }, runs: { troupe: adaptive.map((r) => r.success), baseline: rr.map((r) => r.success) } }),
    makeRow({ figure: "R5b. the failing actor's share of messages 1,001-2,000", unit: '%', baselineName: 'round-robin', target: { on: 'troupe', op: '<', value: 0.1 }, runs: { troupe: adaptive.map((r) => r.share), baseline: rr.map((r) => r.share) } }),
  ],
});
