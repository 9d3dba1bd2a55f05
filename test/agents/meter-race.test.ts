// The agents' meter is spawned by the first run that reports. While that spawn is under way the meter's id is taken
// but lookup does not find it yet; a report then must wait for it, not give up (a dropped batch was the flake
// "expected 9 to be 20" in metrics.test.ts). Here the spawn is held open for as long as the test wants, by blocking
// the worker it goes to: real worker threads, the real meter.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { agentMeter, meterWaitMs, METER_ID, METER_WAIT, type MeterEntry } from '../../agents/meter.ts';
import { reporter } from './fixtures/meter-race.ts';
import { blocker } from '../fixtures/blocker.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

describe("a run's report while the meter's spawn is under way", { timeout: 60_000 }, () => {
  it('waits for the meter and is counted, however many times it finds the id taken', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-meter-race-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const runtime = await Runtime.start({ workers: 2, stallMs: 60_000 });
    cleanups.push(() => runtime.shutdown());
    cleanups.push(() => fs.writeFileSync(path.join(dir, 'release'), '')); // never leave worker 1 blocked
    const b = await runtime.spawn(blocker, { pin: 1 });
    const r = await runtime.spawn(reporter, { pin: 2 });
    runtime.tell(b, 'hold', dir);
    await until(() => fs.existsSync(path.join(dir, 'held')), 'worker 1 blocked');
    // Worker 1 cannot answer this spawn until released: until then METER_ID is taken and not found.
    const meter = runtime.spawn(agentMeter, { id: METER_ID, pin: 1 });
    const releaseAt = 6; // more looks than the 3 the old code made before it dropped the batch
    const waits = await runtime.ask(r, 'report', { dir, kind: 'test.race', releaseAt }, { timeoutMs: 50_000 });
    expect(waits).toBeGreaterThanOrEqual(releaseAt);
    const ref = await meter;
    let runs: MeterEntry | undefined;
    await until(async () => {
      runs = ((await runtime.ask(ref, 'read')) as MeterEntry[]).find((e) => e.family === 'runs' && e.labels.kind === 'test.race');
      return runs !== undefined;
    }, 'the report counted');
    expect(runs!.value).toBe(1);
  });

  it('waits doubling from firstMs up to maxMs', () => {
    expect(meterWaitMs(0)).toBe(METER_WAIT.firstMs);
    expect(meterWaitMs(1)).toBe(METER_WAIT.firstMs * 2);
    expect(meterWaitMs(1000)).toBe(METER_WAIT.maxMs);
    for (let a = 1; a < 40; a++) expect(meterWaitMs(a)).toBeGreaterThanOrEqual(meterWaitMs(a - 1));
  });
});
