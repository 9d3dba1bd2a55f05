// The demo as a service: `npm start` runs `troupe start examples/demo-system.ts`, which prints where its metrics,
// health and web view are, runs the agent team's workload with progress output and exits 0 when it is done (`npm
// start -- --serve` keeps it running until Ctrl-C). The team and the workload live in examples/demo-workload.ts.
import { defineSystem } from '../index.ts';
import { demoTeam, runDemo, type DemoTeam } from './demo-workload.ts';

let team: DemoTeam | undefined;

export default defineSystem({
  name: 'demo',
  defaults: { workers: 2, logLevel: 'error' }, // the demo crashes an agent on purpose: no warning for it
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
