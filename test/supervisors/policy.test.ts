import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  affectedChildren,
  Backoff,
  CircuitBreaker,
  InvalidSupervisorOptionError,
  RestartCredit,
  RestartIntensity,
  creditEligible,
  shouldRestart,
  stopOrder,
  type RestartStrategy,
} from '../../supervisors/policy/index.ts';

const numRuns = Number(process.env.TROUPE_FC_RUNS ?? 100);

/** Asserts `fn` throws the named option error, and that its message names `option`. */
function expectOptionError(fn: () => unknown, option: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidSupervisorOptionError);
  const err = caught as InvalidSupervisorOptionError;
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('InvalidSupervisorOptionError');
  expect(err.code).toBe('ERR_INVALID_SUPERVISOR_OPTION');
  expect(err.option).toBe(option);
  expect(err.message).toContain(option);
}

describe('RestartIntensity', () => {
  it('allows maxRestarts restarts in the window and exhausts on the next one', () => {
    const i = new RestartIntensity({ maxRestarts: 3, withinMs: 1000 });
    expect([0, 10, 20].map((t) => i.record(t))).toEqual(['ok', 'ok', 'ok']);
    expect(i.record(30)).toBe('exhausted');
  });

  it('maxRestarts = 0 exhausts on the first restart', () => {
    expect(new RestartIntensity({ maxRestarts: 0, withinMs: 1000 }).record(5)).toBe('exhausted');
  });

  it('slides: restarts older than withinMs no longer count', () => {
    const i = new RestartIntensity({ maxRestarts: 3, withinMs: 1000 });
    for (const t of [0, 100, 200]) i.record(t);
    expect(i.restartsInWindow(1000)).toBe(3);
    expect(i.restartsInWindow(1001)).toBe(2); // the restart at 0 fell out
    expect(i.record(1001)).toBe('ok'); // 100, 200, 1001
    expect(i.record(1002)).toBe('exhausted'); // 100, 200, 1001, 1002
    expect(i.restartsInWindow(2001)).toBe(2); // 1001, 1002
    expect(i.restartsInWindow(2003)).toBe(0);
  });

  it('is inclusive at the old end of the window, as OTP (a restart exactly withinMs ago counts)', () => {
    const i = new RestartIntensity({ maxRestarts: 3, withinMs: 1000 });
    for (const t of [0, 100, 200]) i.record(t);
    expect(i.record(1000)).toBe('exhausted');
  });

  it('counts restarts at the same instant separately', () => {
    const i = new RestartIntensity({ maxRestarts: 1, withinMs: 0 });
    expect(i.record(7)).toBe('ok');
    expect(i.record(7)).toBe('exhausted');
    expect(i.record(8)).toBe('ok'); // withinMs = 0: only same-instant restarts share a window
  });

  it('reset forgets every restart', () => {
    const i = new RestartIntensity({ maxRestarts: 1, withinMs: 1000 });
    i.record(0);
    i.reset();
    expect(i.restartsInWindow(0)).toBe(0);
    expect(i.record(1)).toBe('ok');
  });

  it('keeps memory bounded when recording goes on after exhaustion', () => {
    const i = new RestartIntensity({ maxRestarts: 2, withinMs: 1e9 });
    for (let t = 0; t < 10_000; t++) expect(i.record(t)).toBe(t < 2 ? 'ok' : 'exhausted');
    expect(i.restartsInWindow(10_000)).toBe(3); // saturates at maxRestarts + 1
  });

  it('rejects bad limits', () => {
    expectOptionError(() => new RestartIntensity({ maxRestarts: -1, withinMs: 1000 }), 'maxRestarts');
    expectOptionError(() => new RestartIntensity({ maxRestarts: 1.5, withinMs: 1000 }), 'maxRestarts');
    expectOptionError(() => new RestartIntensity({ maxRestarts: NaN, withinMs: 1000 }), 'maxRestarts');
    expectOptionError(() => new RestartIntensity({ maxRestarts: 3, withinMs: -1 }), 'withinMs');
    expectOptionError(() => new RestartIntensity({ maxRestarts: 3, withinMs: NaN }), 'withinMs');
    expectOptionError(() => new RestartIntensity({ maxRestarts: 3, withinMs: Infinity }), 'withinMs');
  });

  it('property: exhausted exactly when the naive window [now - withinMs, now] holds more than maxRestarts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        // Gaps of 0 give equal timestamps; gaps up to 1500 let the window empty out.
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 60 }),
        (maxRestarts, withinMs, gaps) => {
          const i = new RestartIntensity({ maxRestarts, withinMs });
          const seen: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            seen.push(now);
            const inWindow = seen.filter((t) => t >= now - withinMs && t <= now).length;
            expect(i.record(now)).toBe(inWindow > maxRestarts ? 'exhausted' : 'ok');
            expect(i.restartsInWindow(now)).toBe(Math.min(inWindow, maxRestarts + 1));
          }
        },
      ),
      { numRuns },
    );
  });
});

describe('Backoff', () => {
  const opts = { minMs: 100, maxMs: 1000, randomFactor: 0.2, resetAfterMs: 5000 };

  it('doubles from minMs and caps at maxMs', () => {
    const b = new Backoff(opts, () => 0);
    // Fail right after each restart so the streak is never quiet.
    let now = 0;
    const delays: number[] = [];
    for (let n = 0; n < 7; n++) {
      const d = b.next(now);
      delays.push(d);
      now += d + 1;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(b.attempt).toBe(7);
  });

  it('adds jitter of up to randomFactor, never beyond maxMs * (1 + randomFactor)', () => {
    expect(new Backoff(opts, () => 0.5).next(0)).toBeCloseTo(110, 9);
    const top = new Backoff(opts, () => 0.999999);
    let now = 0;
    for (let n = 0; n < 20; n++) {
      const d = top.next(now);
      expect(d).toBeLessThanOrEqual(1000 * 1.2);
      now += d;
    }
    expect(top.next(now)).toBeGreaterThan(1000);
  });

  it('clamps an injected random that leaves [0, 1)', () => {
    for (const r of [5, -1, NaN, Infinity]) {
      const d = new Backoff(opts, () => r).next(0);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(120);
    }
  });

  it('minMs = 0 gives 0 delays, even after many failures', () => {
    const b = new Backoff({ minMs: 0, maxMs: 1000, randomFactor: 1, resetAfterMs: 10 }, () => 0.7);
    for (let n = 0; n < 2000; n++) expect(b.next(n)).toBe(0);
  });

  it('resets the exponent after a quiet period measured from the restart', () => {
    const b = new Backoff(opts, () => 0);
    expect(b.next(0)).toBe(100); // restarts at 100
    expect(b.next(150)).toBe(200); // restarts at 350
    expect(b.next(350 + 4999)).toBe(400); // one ms short of quiet: restarts at 5749
    expect(b.next(5749 + 5000)).toBe(100); // quiet for resetAfterMs: new streak
    expect(b.attempt).toBe(1);
  });

  it('does not mistake a long delay for a quiet period', () => {
    const b = new Backoff({ minMs: 1000, maxMs: 60_000, randomFactor: 0, resetAfterMs: 500 }, () => 0);
    expect(b.next(0)).toBe(1000); // child restarts at 1000
    expect(b.next(1100)).toBe(2000); // 1100 ms after the failure, but only 100 ms after the restart
  });

  it('reset starts a new streak', () => {
    const b = new Backoff(opts, () => 0);
    b.next(0);
    b.next(1);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next(2)).toBe(100);
  });

  it('rejects bad options', () => {
    const r = () => 0;
    expectOptionError(() => new Backoff({ ...opts, minMs: -1 }, r), 'minMs');
    expectOptionError(() => new Backoff({ ...opts, minMs: NaN }, r), 'minMs');
    expectOptionError(() => new Backoff({ ...opts, maxMs: 50 }, r), 'maxMs');
    expectOptionError(() => new Backoff({ ...opts, maxMs: Infinity }, r), 'maxMs');
    expectOptionError(() => new Backoff({ ...opts, randomFactor: -0.1 }, r), 'randomFactor');
    expectOptionError(() => new Backoff({ ...opts, randomFactor: 1.5 }, r), 'randomFactor');
    expectOptionError(() => new Backoff({ ...opts, resetAfterMs: -5 }, r), 'resetAfterMs');
    expectOptionError(() => new Backoff(opts, undefined as unknown as () => number), 'random');
  });

  it('property: each delay lies in [min(max, min * 2^k), that * (1 + randomFactor)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        // Each failure: how long after the previous restart it happens, and what random() returns.
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
          { maxLength: 80 },
        ),
        (minMs, extra, randomFactor, resetAfterMs, failures) => {
          const maxMs = minMs + extra;
          let nextRandom = 0;
          const b = new Backoff({ minMs, maxMs, randomFactor, resetAfterMs }, () => nextRandom);
          let restartedAt: number | undefined;
          let k = 0;
          for (const [sinceRestart, r] of failures) {
            const now = (restartedAt ?? 0) + sinceRestart;
            if (restartedAt !== undefined) k = sinceRestart >= resetAfterMs ? 0 : k + 1;
            nextRandom = r;
            const base = Math.min(maxMs, minMs * 2 ** k);
            const d = b.next(now);
            expect(d).toBeGreaterThanOrEqual(base);
            expect(d).toBeLessThanOrEqual(base * (1 + randomFactor));
            expect(d).toBeLessThanOrEqual(maxMs * (1 + randomFactor));
            restartedAt = now + d;
          }
        },
      ),
      { numRuns },
    );
  });
});

describe('CircuitBreaker', () => {
  const opts = { resetMs: 1000, maxResetMs: 5000, multiplier: 2 };

  it('starts closed and lets restarts through', () => {
    const c = new CircuitBreaker(opts);
    expect(c.state(0)).toBe('closed');
    expect(c.tryAdmit(0)).toBe(true);
    expect(c.retryAt(0)).toBeUndefined();
    expect(c.snapshot(0)).toEqual({ state: 'closed', resetTimeoutMs: 1000, trips: 0 });
  });

  it('opens when tripped, fails fast until retryAt, then reads half-open', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(100);
    expect(c.state(100)).toBe('open');
    expect(c.retryAt(500)).toBe(1100);
    expect(c.tryAdmit(500)).toBe(false);
    expect(c.due(1099)).toBe(false);
    expect(c.state(1099)).toBe('open');
    expect(c.due(1100)).toBe(true);
    expect(c.state(1100)).toBe('half-open');
    expect(c.retryAt(1100)).toBeUndefined();
    expect(c.snapshot(500)).toEqual({ state: 'open', retryAt: 1100, resetTimeoutMs: 1000, trips: 1 });
  });

  it('half-open admits exactly one trial until its outcome is reported', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    expect(c.tryAdmit(1000)).toBe(true);
    expect(c.tryAdmit(1000)).toBe(false);
    expect(c.tryAdmit(99_999)).toBe(false);
    expect(c.state(99_999)).toBe('half-open');
    expect(c.due(99_999)).toBe(false);
  });

  it('a failed trial re-opens with the reset time multiplied, up to the max', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    let now = 0;
    const timeouts: number[] = [];
    for (let n = 0; n < 4; n++) {
      now = c.retryAt(now)!;
      expect(c.tryAdmit(now)).toBe(true);
      now += 10;
      c.trialFailed(now);
      expect(c.state(now)).toBe('open');
      expect(c.retryAt(now)! - now).toBe(c.snapshot(now).resetTimeoutMs);
      timeouts.push(c.snapshot(now).resetTimeoutMs);
    }
    expect(timeouts).toEqual([2000, 4000, 5000, 5000]);
    expect(c.snapshot(now).trips).toBe(5);
  });

  it('a successful trial closes and restores the base reset time', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    c.tryAdmit(1000);
    c.trialFailed(1000); // reset time now 2000
    c.tryAdmit(3000);
    c.trialSucceeded();
    expect(c.state(3000)).toBe('closed');
    expect(c.snapshot(3000).resetTimeoutMs).toBe(1000);
    c.tripped(4000);
    expect(c.retryAt(4000)).toBe(5000);
  });

  it('tripping during the trial counts as the trial failing', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    c.tryAdmit(1000);
    c.tripped(1200);
    expect(c.state(1200)).toBe('open');
    expect(c.retryAt(1200)).toBe(3200);
  });

  it('ignores outcomes and trips when no trial is running', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    c.trialSucceeded();
    c.trialFailed(500);
    c.tripped(600);
    expect(c.snapshot(600)).toEqual({ state: 'open', retryAt: 1000, resetTimeoutMs: 1000, trips: 1 });
    c.trialFailed(1500); // due, but not admitted: nothing ran, nothing failed
    expect(c.state(1500)).toBe('half-open');
    expect(c.tryAdmit(1500)).toBe(true);
  });

  it('snapshot is plain data', () => {
    const c = new CircuitBreaker(opts);
    c.tripped(0);
    const snap = c.snapshot(10);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(structuredClone(snap)).toEqual(snap);
  });

  it('rejects bad options', () => {
    expectOptionError(() => new CircuitBreaker({ ...opts, resetMs: -1 }), 'resetMs');
    expectOptionError(() => new CircuitBreaker({ ...opts, resetMs: NaN }), 'resetMs');
    expectOptionError(() => new CircuitBreaker({ ...opts, maxResetMs: 999 }), 'maxResetMs');
    expectOptionError(() => new CircuitBreaker({ ...opts, multiplier: 0.5 }), 'multiplier');
    expectOptionError(() => new CircuitBreaker({ ...opts, multiplier: NaN }), 'multiplier');
  });

  it('property: never admits two trials without an outcome in between', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
      fc.constant({ kind: 'tripped' as const }),
      fc.constant({ kind: 'tryAdmit' as const }),
      fc.constant({ kind: 'succeeded' as const }),
      fc.constant({ kind: 'failed' as const }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(op, { maxLength: 100 }),
        (resetMs, extra, multiplier, ops) => {
          const c = new CircuitBreaker({ resetMs, maxResetMs: resetMs + extra, multiplier });
          let now = 0;
          let trialRunning = false;
          for (const o of ops) {
            if (o.kind === 'advance') now += o.ms;
            else if (o.kind === 'tryAdmit') {
              const before = c.state(now);
              const admitted = c.tryAdmit(now);
              if (before === 'open') expect(admitted).toBe(false);
              if (before === 'closed') expect(admitted).toBe(true);
              if (before === 'half-open') {
                // Exactly one: admitted iff no trial is running yet.
                expect(admitted).toBe(!trialRunning);
                trialRunning = true;
              }
            } else if (o.kind === 'succeeded') {
              c.trialSucceeded();
              if (trialRunning) expect(c.state(now)).toBe('closed');
              trialRunning = false;
            } else {
              if (o.kind === 'tripped') c.tripped(now);
              else c.trialFailed(now);
              trialRunning = false;
            }
            const { resetTimeoutMs } = c.snapshot(now);
            expect(resetTimeoutMs).toBeGreaterThanOrEqual(resetMs);
            expect(resetTimeoutMs).toBeLessThanOrEqual(resetMs + extra);
          }
        },
      ),
      { numRuns },
    );
  });
});

describe('strategy', () => {
  const kids = ['a', 'b', 'c', 'd'] as const;

  it.each([
    ['one-for-one', 'b', ['b']],
    ['one-for-all', 'b', ['a', 'b', 'c', 'd']],
    ['rest-for-one', 'b', ['b', 'c', 'd']],
    ['rest-for-one', 'a', ['a', 'b', 'c', 'd']],
    ['rest-for-one', 'd', ['d']],
    ['one-for-one', 'zz', []],
    ['one-for-all', 'zz', []],
    ['rest-for-one', 'zz', []],
  ] as const)('%s with %s failing restarts %j', (strategy, failed, expected) => {
    const children = [...kids];
    expect(affectedChildren(strategy, children, failed)).toEqual(expected);
    expect(children).toEqual(kids); // input untouched
  });

  it('rejects an unknown strategy', () => {
    expectOptionError(() => affectedChildren('all-for-one' as RestartStrategy, kids, 'a'), 'strategy');
  });

  it('stops in reverse start order without touching its input', () => {
    const ids = ['a', 'b', 'c'];
    expect(stopOrder(ids)).toEqual(['c', 'b', 'a']);
    expect(ids).toEqual(['a', 'b', 'c']);
    expect(stopOrder(affectedChildren('rest-for-one', kids, 'b'))).toEqual(['d', 'c', 'b']);
  });

  it.each([
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['permanent', 'crash', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['transient', 'crash', true],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
    ['temporary', 'crash', false],
  ] as const)('%s child exiting with %s: restart %s', (restart, reason, expected) => {
    expect(shouldRestart(restart, reason)).toBe(expected);
  });

  it('rejects an unknown restart type', () => {
    expectOptionError(() => shouldRestart('sometimes' as 'permanent', 'crash'), 'restart');
  });

  it('property: affected children contain the failed one and keep start order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<RestartStrategy>('one-for-one', 'one-for-all', 'rest-for-one'),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        (strategy, children, pick) => {
          const failed = children[pick % children.length];
          const out = affectedChildren(strategy, children, failed);
          expect(out).toContain(failed);
          const positions = out.map((id) => children.indexOf(id));
          expect(positions).toEqual([...positions].sort((x, y) => x - y));
          expect(positions.every((p) => p >= 0)).toBe(true);
        },
      ),
      { numRuns },
    );
  });
});

describe('RestartCredit', () => {
  const ledger = (maxRestarts: number, withinMs = 1000, perChild = 1) => {
    const window = new RestartIntensity({ maxRestarts, withinMs });
    return { window, credits: new RestartCredit<string>(window, perChild) };
  };

  it('is for one-for-one supervisors without backoff, and children that restart after a crash', () => {
    expect(creditEligible({ strategy: 'one-for-one', backoffMinMs: 0, restart: 'permanent' })).toBe(true);
    expect(creditEligible({ strategy: 'one-for-one', backoffMinMs: 0, restart: 'transient' })).toBe(true);
    expect(creditEligible({ strategy: 'one-for-one', backoffMinMs: 0, restart: 'temporary' })).toBe(false);
    expect(creditEligible({ strategy: 'one-for-one', backoffMinMs: 1, restart: 'permanent' })).toBe(false);
    expect(creditEligible({ strategy: 'one-for-all', backoffMinMs: 0, restart: 'permanent' })).toBe(false);
    expect(creditEligible({ strategy: 'rest-for-one', backoffMinMs: 0, restart: 'permanent' })).toBe(false);
  });

  it('grants up to perChild per child, never more in all than the restarts still free in the window', () => {
    const { window, credits } = ledger(3, 1000, 2);
    expect(credits.grant('a', 0)).toBe(2);
    expect(credits.grant('a', 0)).toBe(0); // topped up already
    expect(credits.grant('b', 0)).toBe(1); // 3 free, 2 promised to a
    expect(credits.grant('c', 0)).toBe(0);
    expect(credits.outstanding).toBe(3);
    credits.spent('a');
    window.record(10);
    expect(credits.grant('a', 10)).toBe(0); // a restart in the window took the room the credit held
    expect([credits.heldBy('a'), credits.heldBy('b'), credits.outstanding]).toEqual([1, 1, 2]);
    expect(credits.grant('a', 1011)).toBe(1); // the restart at 10 left the window
  });

  it('maxRestarts 0 gives no credit at all', () => {
    expect(ledger(0).credits.grant('a', 0)).toBe(0);
  });

  it('forfeit drops what a child held; spending never goes below zero', () => {
    const { credits } = ledger(3, 1000, 3);
    credits.grant('a', 0);
    credits.grant('b', 0);
    expect(credits.holders()).toEqual(['a']); // a took all 3
    credits.forfeit('a');
    expect(credits.outstanding).toBe(0);
    credits.spent('a');
    expect(credits.heldBy('a')).toBe(0);
    expect(credits.grant('b', 0)).toBe(3);
  });

  it('asks for a revocation only when a restart without credit would be allowed but eat promised room', () => {
    const { window, credits } = ledger(2);
    credits.grant('a', 0);
    credits.grant('b', 0);
    expect(credits.mustRevokeBefore(0)).toBe(true); // 0 + 1 + 2 > 2
    credits.forfeit('b');
    expect(credits.mustRevokeBefore(0)).toBe(false); // 0 + 1 + 1 <= 2
    window.record(0);
    window.record(0);
    credits.forfeit('a');
    expect(credits.mustRevokeBefore(0)).toBe(false); // would be exhausted anyway: nothing to wait for
  });

  it('rejects a bad perChild', () => {
    expectOptionError(() => new RestartCredit(new RestartIntensity({ maxRestarts: 1, withinMs: 1 }), -1), 'perChild');
    expectOptionError(() => new RestartCredit(new RestartIntensity({ maxRestarts: 1, withinMs: 1 }), 1.5), 'perChild');
  });

  /**
   * A supervisor and its children's threads, reduced to the bookkeeping: threads spend credit on crashes (or send
   * the crash on when they have none, forfeiting theirs), reports arrive later in per-child order, the supervisor
   * revokes when told to (restarts already made under the revoked credit are reported first) and tops credit up.
   */
  it('property: a restart made under credit is never the one that exhausts the window, and the ledger never undercounts', () => {
    type Cmd = { t: 'advance'; ms: number } | { t: 'grant'; k: number } | { t: 'crash'; k: number } | { t: 'deliver'; k: number };
    const cmd = fc.oneof(
      fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }),
      fc.record({ t: fc.constant('grant' as const), k: fc.nat({ max: 2 }) }),
      fc.record({ t: fc.constant('crash' as const), k: fc.nat({ max: 2 }) }),
      fc.record({ t: fc.constant('deliver' as const), k: fc.nat({ max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.constantFrom(300, 1000), fc.integer({ min: 1, max: 3 }), fc.array(cmd, { maxLength: 80 }), (maxRestarts, withinMs, perChild, cmds) => {
        const window = new RestartIntensity({ maxRestarts, withinMs });
        const credits = new RestartCredit<number>(window, perChild);
        const onThread = [0, 0, 0];
        const reports: ('local' | 'decide')[][] = [[], [], []];
        let now = 0;
        const count = (k: number, kind: 'local' | 'decide') => reports[k].filter((r) => r === kind).length;
        const local = (k: number) => {
          credits.spent(k);
          expect(window.record(now)).toBe('ok');
        };
        for (const c of cmds) {
          if (c.t === 'advance') now += c.ms;
          else if (c.t === 'grant') {
            const n = credits.grant(c.k, now);
            if (count(c.k, 'decide') === 0) onThread[c.k] += n; // else it arrives after the crash: dropped
          }
          else if (c.t === 'crash') {
            if (count(c.k, 'decide') > 0) continue; // waiting for its supervisor: takes no mail, cannot crash
            if (onThread[c.k] > 0) {
              onThread[c.k]--;
              reports[c.k].push('local');
            } else reports[c.k].push('decide');
          } else {
            const r = reports[c.k].shift();
            if (r === 'local') local(c.k);
            else if (r === 'decide') {
              credits.forfeit(c.k);
              if (credits.mustRevokeBefore(now)) {
                for (const h of credits.holders()) {
                  // What h restarted before the revocation reached it is reported before its answer.
                  while (reports[h][0] === 'local') {
                    reports[h].shift();
                    local(h);
                  }
                  credits.forfeit(h);
                  onThread[h] = 0;
                }
                expect(credits.mustRevokeBefore(now)).toBe(false);
              }
              if (window.record(now) === 'ok') onThread[c.k] = credits.grant(c.k, now); // restarted, with fresh credit
              else expect(credits.outstanding).toBe(0);
            }
          }
          if (credits.outstanding > 0) expect(window.restartsInWindow(now) + credits.outstanding).toBeLessThanOrEqual(maxRestarts);
          for (const k of [0, 1, 2]) expect(credits.heldBy(k)).toBeGreaterThanOrEqual(onThread[k] + count(k, 'local'));
        }
      }),
      { numRuns },
    );
  });
});
