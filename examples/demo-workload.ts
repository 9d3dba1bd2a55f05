// The demo's team and workload, shared by `npm run demo` (examples/demo.ts) and `npm start` (the service,
// examples/demo-system.ts). Replace this module to give the demo another team: the two callers only need
// demoTeam (start it under supervision) and runDemo (the workload, printing progress through `out`).
import type { ActorRef, Runtime } from '../index.ts';
import { coordinator, reporter, researcher } from './agents.ts';

export interface DemoTeam {
  researchers: ActorRef<typeof researcher>[];
  reporter: ActorRef<typeof reporter>;
  coordinator: ActorRef<typeof coordinator>;
}

/** The team under one supervisor: three researchers, a reporter following their progress, a coordinator. */
export async function demoTeam(runtime: Runtime): Promise<DemoTeam> {
  const names = ['ada', 'grace', 'alan'];
  const lab = await runtime.supervise({
    id: 'lab',
    strategy: 'one-for-one',
    children: names.map((name) => ({ id: name, actor: researcher, args: { name } })),
  });
  const researchers = names.map((name) => lab.ref<typeof researcher>(name)!);
  const news = await runtime.spawn(reporter, { id: 'reporter' });
  await runtime.ask(news, 'start');
  const boss = await runtime.spawn(coordinator, { id: 'coordinator', args: { team: researchers } });
  return { researchers, reporter: news, coordinator: boss };
}

const rounds = [
  ['actor model', 'supervision trees in erlang'],
  ['lmdb group commit', 'worker threads'],
];

/**
 * The workload: rounds of research spread over the team, a bad request that crashes one agent (its supervisor
 * restarts it, the others carry on), then a look at the stats. Stops between rounds when `signal` aborts.
 */
export async function runDemo(runtime: Runtime, team: DemoTeam, out: (line: string) => void, signal?: AbortSignal): Promise<void> {
  for (const r of [...team.researchers, team.reporter, team.coordinator]) out(`spawned ${r.kind} '${r.id}' on thread ${r.node}`);
  let findings = 0;
  for (const [i, topics] of rounds.entries()) {
    if (signal?.aborted) return;
    for (const f of await runtime.ask(team.coordinator, 'run', topics)) out(`finding  ${f}`);
    findings += topics.length;
    out(`progress round ${i + 1}/${rounds.length} done`);
  }
  const ada = team.researchers[0];
  const crash = await runtime.ask(ada, 'fail', 'a bad prompt').then(() => undefined, (e: Error & { code: string }) => e);
  out(`crash    ${crash?.code}: ${crash?.message}`);
  out(`after    ${await runtime.ask(ada, 'research', 'still alive')}`);
  // Publications travel from the agents' threads to the reporter's: give the last ones a moment to land.
  let heard = await runtime.ask(team.reporter, 'lines');
  for (let i = 0; i < 100 && heard.length < findings + 1 && !signal?.aborted; i++) {
    await new Promise((r) => setTimeout(r, 10));
    heard = await runtime.ask(team.reporter, 'lines');
  }
  out(`reporter heard ${heard.length} progress reports`);
  const stats = await runtime.stats();
  for (const n of stats.nodes) out(`thread ${n.node}: ${n.actorCount} actors, utilization ${(n.eventLoopUtilization * 100).toFixed(1)}%`);
  out(`dead letters: ${JSON.stringify(stats.deadLetters)}`);
}
