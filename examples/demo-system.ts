// The demo as a service: `npm start` runs `troupe start examples/demo-system.ts`, which prints where its metrics,
// health and web view are, runs the agent team's workload with progress output and exits 0 when it is done (`npm
// start -- --serve` keeps it running until Ctrl-C). The team and the workload live in examples/demo-workload.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSystem } from '../index.ts';
import { demoTeam, runDemo, type DemoTeam } from './demo-workload.ts';

// The agents are durable (exactly-once turns): without --data-dir (or TROUPE_DATA_DIR), a scratch directory for
// this run, removed when the process exits.
const scratch = mkdtempSync(join(tmpdir(), 'troupe-demo-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

let team: DemoTeam | undefined;

export default defineSystem({
  name: 'demo',
  defaults: { workers: 2, logLevel: 'error', dataDir: scratch }, // the demo crashes an agent on purpose: no warning for it
  async start(runtime, { progress }) {
    team = await demoTeam(runtime);
    progress(`team up: a manager, ${team.agents.length - 1} agents under one supervisor, a local model server`);
  },
  async run(runtime, { progress, signal }) {
    await runDemo(runtime, team!, progress, signal);
  },
  async stop() {
    await team?.close();
  },
});
