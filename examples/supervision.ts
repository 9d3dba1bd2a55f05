// examples/supervision.ts: a supervision tree, a crash, a restart. Run: npx tsx examples/supervision.ts
import { Runtime } from '../runtime/index.ts';
import { researcher } from './agents.ts';

const runtime = await Runtime.start({ workers: 2 });
runtime.onCrash((c) => console.log(`crash: ${c.actorId} on '${c.messageType}' -> ${c.decision}`));
const tree = await runtime.supervise({
  id: 'lab',
  strategy: 'one-for-one',
  intensity: { maxRestarts: 1, withinMs: 5000 }, // one restart per 5 s, then...
  onExhausted: 'open-circuit', // ...the failing agent's circuit opens: callers fail fast
  circuit: { resetMs: 1000, maxResetMs: 60_000, multiplier: 2 },
  children: [
    { id: 'ada', actor: researcher, args: { name: 'ada' } },
    { id: 'alan', actor: researcher, args: { name: 'alan' }, shutdown: { graceMs: 1000 } },
  ],
});
const ada = tree.ref<typeof researcher>('ada')!;

await runtime.ask(ada, 'fail', 'bad prompt').catch((e) => console.log(e.code)); // ERR_ACTOR_CRASHED
console.log(await runtime.ask(ada, 'research', 'restarted, same ref'));
await runtime.ask(ada, 'fail', 'again').catch((e) => console.log(e.code)); // ERR_ACTOR_CRASHED
await runtime.ask(ada, 'research', 'anyone there?').catch((e) => console.log(e.code)); // ERR_CIRCUIT_OPEN
console.log(tree.children().map((c) => `${c.id}: ${c.status}, ${c.restarts} restart(s)`).join('; '));
await runtime.shutdown();
