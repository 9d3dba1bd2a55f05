// The demo system: a coordinator spreads research topics over three agents on worker threads, a reporter follows
// their progress on a topic, one agent is sent a bad request (it crashes, the others carry on), then it all shuts
// down cleanly. Run: npm run demo
import { Runtime } from '../runtime/index.ts';
import { coordinator, reporter, researcher } from './agents.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const runtime = await Runtime.start({ workers: Number(process.env.TROUPE_WORKERS ?? 2) });
console.log(`troupe demo: ${runtime.workerCount} worker threads`);

const team = await Promise.all(['ada', 'grace', 'alan'].map((name) => runtime.spawn(researcher, { id: name, args: { name } })));
const news = await runtime.spawn(reporter, { id: 'reporter' });
await runtime.ask(news, 'start');
const boss = await runtime.spawn(coordinator, { id: 'coordinator', args: { team } });
for (const r of [...team, news, boss]) console.log(`spawned ${r.kind} '${r.id}' on thread ${r.node}`);

const findings = await runtime.ask(boss, 'run', ['actor model', 'supervision trees in erlang', 'lmdb group commit', 'worker threads']);
for (const f of findings) console.log(`finding  ${f}`);

const crash = await runtime.ask(team[0], 'fail', 'a bad prompt').catch((e: Error & { code: string }) => e);
console.log(`crash    ${(crash as Error & { code: string }).code}: ${(crash as Error).message}`);
console.log(`after    ${await runtime.ask(team[0], 'research', 'still alive')}`);

// Publications travel from the agents' threads to the reporter's: give the last ones a moment to land.
let progress = await runtime.ask(news, 'lines');
for (let i = 0; i < 100 && progress.length < findings.length + 1; i++) {
  await new Promise((r) => setTimeout(r, 10));
  progress = await runtime.ask(news, 'lines');
}
console.log(`reporter heard ${progress.length} progress reports`);
const stats = await runtime.stats();
for (const n of stats.nodes) console.log(`thread ${n.node}: ${n.actorCount} actors, utilization ${(n.eventLoopUtilization * 100).toFixed(1)}%`);
console.log(`dead letters: ${JSON.stringify(stats.deadLetters)}`);
await runtime.shutdown();
console.log('troupe demo: shut down cleanly');
