// examples/routing.ts: routing by capability, sticky keys, discovery, a pool. Run: npx tsx examples/routing.ts
import { Runtime } from '../index.ts';
import { route } from '../router/index.ts';
import { lead, reviewer } from './routing-actors.ts';

const runtime = await Runtime.start({ workers: 2 });
await runtime.spawn(reviewer, { id: 'ada', args: { name: 'ada' } });
await runtime.spawn(reviewer, { id: 'alan', args: { name: 'alan' }, capabilities: ['security'] }); // added per spawn

// Whoever offers every capability asked for; the reply type is inferred from `reviewer`.
const security = route(reviewer, { capability: ['code-review', 'security'] });
console.log(await runtime.ask(security, 'review', 'fix: check the token\nin constant time'));

// A key keeps one conversation on one reviewer (consistent hashing) while that reviewer lives.
const byKey = new Set<string>();
for (let i = 0; i < 5; i++) byKey.add(await runtime.ask({ capability: 'code-review', key: 'pr-42' }, 'review', `round ${i}`));
console.log(`pr-42 went to ${new Set([...byKey].map((r) => r.split(' ')[0])).size} reviewer`);

// A router you can hold: a route is plain data, so it can be handed to another actor in a message.
const reviewers = runtime.router({ capability: 'code-review', strategy: 'p2c' });
const boss = await runtime.spawn(lead);
console.log(`lead had ${await runtime.ask(boss, 'delegate', { reviewers, diffs: ['a', 'b', 'c', 'd'] })} diffs reviewed`);

// Discovery: the live actors offering a capability, least loaded first, with their health.
console.log(runtime.capabilities('code-review').map((m) => `${m.id}: ${m.health}`).sort().join(', '));

// A pool of equal reviewers, supervised, spread over the worker threads, scaled between min and max by backlog.
const pool = await runtime.pool(reviewer, { id: 'night-shift', min: 2, max: 4, args: { name: 'night' } });
await Promise.all(Array.from({ length: 10 }, (_, i) => runtime.ask(pool.route, 'review', `patch ${i}`)));
console.log(`pool ${pool.id}: ${pool.size} members on threads ${[...new Set(runtime.capabilities(`pool:${pool.id}`).map((m) => m.node))].sort().join(' and ')}`);

await runtime.shutdown();
