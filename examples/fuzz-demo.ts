// examples/fuzz-demo.ts: fuzz the demo's team in simulation. Run: npx tsx examples/fuzz-demo.ts (the tests run it).
import fc from 'fast-check';
import { Simulation, simCheck, faultPlanArbitrary, assertInvariants, nothingLost, type SimRun, type Fault } from '../testkit/index.ts';
import { coordinator, reporter, researcher as demoResearcher } from './agents.ts';
import { researcher } from './fuzz-demo-actors.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent'; // the fuzzing crashes agents on purpose: no warning line per crash
const names = ['ada', 'grace', 'alan'];

/** The demo's team (examples/demo-workload.ts), built in a simulation; `def` is the researcher definition to use. */
async function team(sim: Simulation, def: typeof researcher) {
  const lab = await sim.supervise({
    id: 'lab', strategy: 'one-for-one', intensity: { maxRestarts: 10, withinMs: 5000 },
    children: names.map((name) => ({ id: name, actor: def, args: { name } })),
  });
  const news = await sim.spawn(reporter, { id: 'reporter' });
  await sim.call(news, 'start');
  const boss = await sim.spawn(coordinator, { id: 'coordinator', args: { team: names.map((n) => lab.ref<typeof researcher>(n)!) } });
  return { news, boss };
}

// 1. The demo's own researcher thinks with a real timer: the simulation says so, and what to change.
const first = await Simulation.start({ seed: 1 });
const demo = await team(first, demoResearcher);
const refused = await first.call(demo.boss, 'run', ['actor model']).catch((e: Error & { code: string }) => e);
console.log(`demo researcher: ${(refused as { code: string }).code}: ${(refused as Error).message.split(':')[0]}`);
await first.stop();

// 2. Fuzz the team: any plan of crashes, slow thinking and slow deliveries, over any seed.
const topics = ['actor model', 'supervision trees', 'lmdb group commit', 'worker threads', 'backoff', 'circuit breakers'];
async function property(input: { plan: Fault[]; rounds: number }, run: SimRun): Promise<void> {
  const sim = await run.start({ faults: input.plan, maxDeliveryDelayMs: 5 });
  const { news, boss } = await team(sim, researcher);
  const outcomes: string[] = [];
  for (let r = 0; r < input.rounds; r++) {
    sim.ask(boss, 'run', topics.slice(r, r + 3), { timeoutMs: 60_000 }).then(
      (findings) => outcomes.push(findings.length === 3 ? 'ok' : `short: ${findings.length}`),
      (e: { code: string }) => outcomes.push(e.code),
    );
  }
  await sim.runUntilIdle();
  // Every run answers: all three findings, or the crash of a researcher it needed.
  if (outcomes.length !== input.rounds || outcomes.some((o) => o !== 'ok' && o !== 'ERR_ACTOR_CRASHED')) throw new Error(`outcomes ${outcomes.join(', ')}`);
  // The reporter heard of every finding made (publications are not lost), and no message vanished without a reason.
  const made = sim.handled.filter((h) => h.type === 'research' && h.outcome === 'applied').length;
  const heard = (await sim.call(news, 'lines')).length;
  assertInvariants(nothingLost(sim), heard === made ? [] : [`reporter heard ${heard} findings of ${made}`]);
}
const input = fc.record({
  plan: faultPlanArbitrary({ actors: names, kinds: ['crash', 'stall', 'delay'], maxMessage: 6, maxMs: 3000, maxFaults: 3 }),
  rounds: fc.integer({ min: 1, max: 4 }),
});
const RUNS = 50;
await simCheck(input, property, { numRuns: RUNS, seed: 42 });
console.log(`fuzzed ${RUNS} simulated runs of the demo team: the property held`);

// 3. Exact replay: the same seed and plan give the same run, event for event.
const hashes: string[] = [];
for (let i = 0; i < 2; i++) {
  const sim = await Simulation.start({ seed: 7, faults: [{ kind: 'crash', actor: 'grace', onMessage: 1 }] });
  const { boss } = await team(sim, researcher);
  await sim.call(boss, 'run', topics.slice(0, 3)).catch(() => undefined);
  hashes.push(sim.hash());
  if (i === 0) console.log(sim.trace.timeline((e) => e.what === 'crash' || (e.what === 'handle' && e.actor === 'grace')));
  await sim.stop();
}
console.log(`replayed seed 7 twice: ${hashes[0] === hashes[1] ? 'identical' : 'DIFFERENT'} trace hashes`);
