// The working copy alone (runtime/workcopy.ts, no mailbox or scheduler): each nested state of bench/actors.ts driven
// through WorkCopy directly in runs of RUN messages (default 10,000, as a same-thread run; RUN=100 is closer to a
// cross-thread batch), its 'add' handler per message. Prints the best of 12 rounds of CPU time per message. Not a
// kernel of `npm run bench` (no baseline): for A/B of working-copy changes, run it in alternation against another
// checkout, e.g. `node --import tsx bench/workcopy-alone.ts 'map: 1000'` (docs/nested-state.md).
import { deepFreeze, WorkCopy } from '../runtime/workcopy.ts';
import { nestedStates } from './actors.ts';

type Shaped = { init: () => object; handlers: { add: (state: object, by: number) => void } };
const only = process.argv[2];
const RUN = Number(process.env.RUN ?? 10_000);
const MESSAGES = 200_000;
for (const [name, def] of Object.entries(nestedStates) as [string, unknown][]) {
  if (only !== undefined && name !== only) continue;
  const { init, handlers } = def as Shaped;
  let state = init();
  deepFreeze(state);
  let best = Infinity;
  for (let round = 0; round < 12; round++) {
    const c0 = process.cpuUsage();
    for (let run = 0; run < MESSAGES / RUN; run++) {
      const work = new WorkCopy(state);
      for (let i = 0; i < RUN; i++) {
        work.begin();
        handlers.add(work.draft, 1);
        work.end();
      }
      state = work.commit() as object;
    }
    const cpu = process.cpuUsage(c0);
    best = Math.min(best, ((cpu.user + cpu.system) * 1000) / MESSAGES);
  }
  console.log(`${name.padEnd(14)} ${best.toFixed(1)} ns/msg (CPU, best of 12, runs of ${RUN})`);
}
