/**
 * A simulation-backed variant of Troupe's model-based supervision test (test/supervisors/model.test.ts): random
 * configurations and command sequences (crash, lose its thread, add, get, wait) against one child of a one-for-one supervisor with
 * onExhausted 'open-circuit', run in simulation (virtual time, seeded scheduling: no polling, no real timers) and
 * against a small model written from the documented semantics. After each command the simulation runs until idle,
 * so the model describes the system at rest: every restart done, every open circuit waited out (half-open).
 * Compared after every command: the child's status and restart count, every crash report's decision (and delay),
 * and the value of every 'get'. Failures print the testkit's replay line.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simCheck, type SimRun } from '../../testkit/index.ts';
import { crashyCounter } from './fixtures/systems.ts';
import '../kernel/helpers.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 60);

interface Config { maxRestarts: number; withinMs: number; backoffMs: number; resetMs: number; multiplier: number; maxResetMs: number }
type Command = { t: 'crash' } | { t: 'lose-thread' } | { t: 'add'; n: number } | { t: 'get' } | { t: 'wait'; ms: number };

/** The documented semantics, at rest after each command. */
class Model {
  status: 'running' | 'half-open' = 'running';
  count = 0;
  restarts = 0;
  stamps: number[] = [];
  resetTimeout: number;
  decisions: string[] = [];
  constructor(readonly cfg: Config) {
    this.resetTimeout = cfg.resetMs;
  }
  /** A message lands on a half-open child: it is the trial; success closes the circuit (window and backoff reset). */
  private trialOk(): void {
    this.status = 'running';
    this.stamps = [];
    this.resetTimeout = this.cfg.resetMs;
  }
  crash(now: number): void {
    this.count = 0; // restarted (or re-opened and re-initialised at half-open): state from init
    if (this.status === 'half-open') {
      this.resetTimeout = Math.min(this.cfg.maxResetMs, this.resetTimeout * this.cfg.multiplier);
      this.decisions.push('reopen-circuit');
      return; // at rest: waited out, half-open again
    }
    this.stamps = this.stamps.filter((t) => t >= now - this.cfg.withinMs);
    this.stamps.push(now);
    if (this.stamps.length > this.cfg.maxRestarts + 1) this.stamps.shift();
    if (this.stamps.length > this.cfg.maxRestarts) {
      this.decisions.push('open-circuit');
      this.status = 'half-open';
      return;
    }
    this.decisions.push(`restart ${this.cfg.backoffMs}`);
    this.restarts++;
  }
  add(n: number): void {
    if (this.status === 'half-open') this.trialOk();
    this.count += n;
  }
  get(): number {
    if (this.status === 'half-open') this.trialOk();
    return this.count;
  }
}

const configArb: fc.Arbitrary<Config> = fc.record({
  maxRestarts: fc.integer({ min: 0, max: 3 }),
  withinMs: fc.constantFrom(300, 1000, 5000),
  backoffMs: fc.constantFrom(0, 50),
  resetMs: fc.constantFrom(100, 500),
  multiplier: fc.constantFrom(1, 2),
  resetSteps: fc.integer({ min: 0, max: 2 }),
}).map(({ resetSteps, ...c }) => ({ ...c, maxResetMs: c.resetMs * 2 ** resetSteps }));

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ t: 'crash' as const }),
  fc.constant({ t: 'lose-thread' as const }),
  fc.record({ t: fc.constant('add' as const), n: fc.integer({ min: 1, max: 9 }) }),
  fc.constant({ t: 'get' as const }),
  fc.record({ t: fc.constant('wait' as const), ms: fc.constantFrom(10, 200, 1000, 6000) }),
);

async function property(input: { cfg: Config; commands: Command[] }, run: SimRun): Promise<void> {
  const { cfg } = input;
  // The child runs on a simulated worker thread, its supervisor on the main thread (as in production).
  const sim = await run.start({ threads: 1 });
  const sup = await sim.supervise({
    id: 'sup', strategy: 'one-for-one', onExhausted: 'open-circuit',
    intensity: { maxRestarts: cfg.maxRestarts, withinMs: cfg.withinMs },
    backoff: { minMs: cfg.backoffMs, maxMs: cfg.backoffMs, randomFactor: 0 },
    circuit: { resetMs: cfg.resetMs, maxResetMs: cfg.maxResetMs, multiplier: cfg.multiplier },
    children: [{ id: 'c', actor: crashyCounter }],
  });
  const c = sup.ref<typeof crashyCounter>('c')!;
  const model = new Model(cfg);
  for (const [i, cmd] of input.commands.entries()) {
    const at = `after command ${i} (${JSON.stringify(cmd)})`;
    if (cmd.t === 'crash') {
      model.crash(sim.now);
      sim.tell(c, 'boom');
    } else if (cmd.t === 'lose-thread') {
      model.crash(sim.now); // a child lost with its thread counts as a crash, decided the same way
      sim.loseThread(c.node);
    } else if (cmd.t === 'add') {
      model.add(cmd.n);
      sim.tell(c, 'add', cmd.n);
    } else if (cmd.t === 'get') {
      const expected = model.get();
      expect(await sim.call(c, 'get'), at).toBe(expected);
    } else await sim.advance(cmd.ms);
    await sim.runUntilIdle();
    const info = sup.children()[0];
    expect({ status: info.status, restarts: info.restarts }, at).toEqual({ status: model.status, restarts: model.restarts });
    expect(sim.crashes.map((r) => (r.decision === 'restart' ? `restart ${r.delayMs}` : r.decision)), at).toEqual(model.decisions);
  }
}

describe('supervision model, in simulation', () => {
  it('one-for-one with open-circuit: status, restarts, decisions and state follow the model', async () => {
    await simCheck(fc.record({ cfg: configArb, commands: fc.array(commandArb, { minLength: 1, maxLength: 25 }) }), property, { numRuns: RUNS });
  });
});
