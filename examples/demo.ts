// The demo system as a plain program: a coordinator spreads research topics over three supervised agents on worker
// threads, a reporter follows their progress on a topic, one agent is sent a bad request (it crashes and is
// restarted, the others carry on), then it all shuts down cleanly. Run: npm run demo (as a service: npm start)
import { Runtime } from '../index.ts';
import { demoTeam, runDemo } from './demo-workload.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const runtime = await Runtime.start({ workers: Number(process.env.TROUPE_WORKERS ?? 2) });
console.log(`troupe demo: ${runtime.workerCount} worker threads`);
await runDemo(runtime, await demoTeam(runtime), (line) => console.log(line));
await runtime.shutdown();
console.log('troupe demo: shut down cleanly');
