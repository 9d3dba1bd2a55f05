// examples/tasks.ts: a plan as a durable task graph. Run: npx tsx examples/tasks.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime/index.ts';
import { TaskManager } from '../tasks/index.ts';
import { researcher } from './task-actors.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'troupe-tasks-'));
const runtime = await Runtime.start({ workers: 2, dataDir });
await runtime.spawn(researcher);
await runtime.spawn(researcher);
const tasks = await TaskManager.start(runtime); // resumes unfinished graphs found in the data directory

const plan = await tasks.submit({
  id: 'plan-1',
  failurePolicy: 'continue-independent',
  tasks: [
    { id: 'actors', capability: 'research', type: 'research', payload: { topic: 'actors' }, priority: 'high' },
    { id: 'lmdb', capability: 'research', type: 'research', payload: { topic: 'lmdb' } },
    { id: 'summary', capability: 'research', type: 'summarize', dependsOn: ['actors', 'lmdb'], priority: 'critical' },
  ],
});
const done = await plan.done();
console.log(done.status, `${done.progress.completed}/${done.progress.total}`); // completed 3/3
console.log((await plan.result('summary')).result); // actors: 6 facts; lmdb: 4 facts
console.log((await plan.criticalPath()).path.join(' -> ')); // actors -> summary (or lmdb -> summary)
await runtime.shutdown();
rmSync(dataDir, { recursive: true, force: true });
