// The demo system as a plain program: a manager agent decomposes a request into a task graph that researchers, a
// coder and a reviewer on worker threads carry out (against the local Messages API server), with a rate limit and a
// crashing agent on the way, then it all shuts down cleanly. Run: npm run demo (as a service: npm start)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../index.ts';
import { demoTeam, runDemo } from './demo-workload.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-demo-')); // the agents are durable: their journals live here
process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const runtime = await Runtime.start({ workers: Number(process.env.TROUPE_WORKERS ?? 2), dataDir });
console.log(`troupe demo: ${runtime.workerCount} worker threads`);
const team = await demoTeam(runtime);
await runDemo(runtime, team, (line) => console.log(line));
await runtime.shutdown();
await team.close();
console.log('troupe demo: shut down cleanly');
