// Figure T3: exact replay. The fuzz bench's system (10 actors, 100 messages, a fault plan from the seed) run 100
// times with one seed: the share of runs whose trace hash equals the first run's (target: all of them). Baseline, same
// process: 100 different seeds, the share of distinct hashes among them (the hash tells different runs apart).
import '../lib/env.ts';
import { Simulation } from '../../testkit/index.ts';
import { emit } from '../lib/measure.ts';
import { makeRow } from '../lib/rows.ts';
import { children, drawPlan, ROUTERS, SUPERVISOR } from './system.ts';

async function hashOf(seed: number): Promise<string> {
  const sim = await Simulation.start({ seed, faults: drawPlan(seed), maxDeliveryDelayMs: 2 });
  const sup = await sim.supervise({ ...SUPERVISOR, children: children() });
  const routers = ROUTERS.map((id) => sup.ref(id)!);
  for (let i = 0; i < 100; i++) {
    sim.tell(routers[i % routers.length], 'route', i);
    if (i % 25 === 24) sim.ask(routers[i % routers.length], 'probe').catch(() => undefined);
  }
  await sim.runUntilIdle();
  const h = sim.hash();
  await sim.stop();
  return h;
}

const SEED = 20_261_203;
const same: string[] = [];
for (let i = 0; i < 100; i++) same.push(await hashOf(SEED));
const different: string[] = [];
for (let i = 0; i < 100; i++) different.push(await hashOf(i));
const identical = same.filter((h) => h === same[0]).length / same.length; // a share: the table prints it as %
const distinct = new Set(different).size / different.length;
emit({
  rows: [
    makeRow({ figure: 'T3. testkit: one seed replayed 100 times, runs with the first run\'s trace hash', unit: '%', baselineName: '100 different seeds: distinct hashes', target: { on: 'troupe', op: '>=', value: 1 }, runs: { troupe: [identical], baseline: [distinct] } }),
  ],
  detail: { seed: SEED, hash: same[0], distinctOverReplays: new Set(same).size, distinctOverSeeds: new Set(different).size },
});
