import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidPoolOptionError } from '../../router/policy/errors.ts';
import { decide, validatePoolOptions, type PoolSample } from '../../router/policy/scaling.ts';
import { errorToData, reviveError } from '../../runtime/errors.ts';
import { numRuns, thrown } from './helpers.ts';

const config = validatePoolOptions({ min: 1, max: 8, scale: { backlogPerInstance: 10, growAfterMs: 1000, idleAfterMs: 5000, growCooldownMs: 2000, shrinkCooldownMs: 10_000 } });

/** One sample a second from t=0 to t=to, with the backlog `at(t)` and `instances`. */
const every = (to: number, instances: number, at: (t: number) => number, step = 500): PoolSample[] =>
  Array.from({ length: Math.floor(to / step) + 1 }, (_, i) => ({ at: i * step, instances, backlog: at(i * step) }));

describe('decide', () => {
  it('grows when backlog per instance stays above the threshold for the sustained period, not on a spike', () => {
    const spike = every(3000, 2, (t) => (t === 3000 ? 500 : 5));
    expect(decide(spike, config, 3000).action).toBe('hold');
    const sustained = every(3000, 2, (t) => (t >= 2000 ? 50 : 5));
    expect(decide(sustained, config, 3000)).toMatchObject({ action: 'grow', by: 2 });
    // the high run started at 2000: at 2500 it has lasted only 500 ms
    expect(decide(sustained.filter((s) => s.at <= 2500), config, 2500).action).toBe('hold');
  });

  it('grows by what the backlog asks, at most doubling, never past max', () => {
    expect(decide(every(2000, 2, () => 1000), config, 2000)).toMatchObject({ action: 'grow', by: 2 });
    expect(decide(every(2000, 6, () => 1000), config, 2000)).toMatchObject({ action: 'grow', by: 2 });
    expect(decide(every(2000, 8, () => 1000), config, 2000).action).toBe('hold');
  });

  it('shrinks by one after an idle period, down to min', () => {
    expect(decide(every(6000, 3, () => 0), config, 6000)).toMatchObject({ action: 'shrink', by: 1 });
    expect(decide(every(4000, 3, () => 0), config, 4000).action).toBe('hold');
    expect(decide(every(6000, 1, () => 0), config, 6000).action).toBe('hold');
  });

  it('respects the cooldowns after a change', () => {
    const high = every(3000, 2, () => 50);
    expect(decide(high, config, 3000, 2000)).toMatchObject({ action: 'hold', reason: 'backlog high, cooling down' });
    expect(decide(high, config, 3000, 1000).action).toBe('grow');
    expect(decide(every(20_000, 3, () => 0), config, 20_000, 15_000).action).toBe('hold');
  });

  it('corrects a pool outside [min, max] at once, and scales an empty pool from zero', () => {
    expect(decide([{ at: 0, instances: 0, backlog: 0 }], config, 0)).toMatchObject({ action: 'grow', by: 1 });
    expect(decide([{ at: 0, instances: 10, backlog: 0 }], config, 0)).toMatchObject({ action: 'shrink', by: 2 });
    const fromZero = validatePoolOptions({ min: 0, max: 4 });
    expect(decide([{ at: 0, instances: 0, backlog: 3 }], fromZero, 0)).toMatchObject({ action: 'grow', by: 1 });
    expect(decide([{ at: 0, instances: 0, backlog: 0 }], fromZero, 0).action).toBe('hold');
    expect(decide([], config, 0).action).toBe('hold');
  });

  it('never leaves [min, max] and never grows on an idle pool nor shrinks a busy one (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 10 }),
        fc.array(fc.tuple(fc.nat(1000), fc.nat(200)), { minLength: 1, maxLength: 30 }),
        fc.option(fc.nat(60_000), { nil: undefined }),
        (min, extra, steps, last) => {
          const cfg = validatePoolOptions({ min, max: min + extra + (min + extra === 0 ? 1 : 0), scale: {} });
          let now = 0;
          let instances = Math.max(cfg.min, 1);
          const samples: PoolSample[] = [];
          for (const [dt, backlog] of steps) {
            now += dt;
            samples.push({ at: now, instances, backlog });
            const d = decide(samples, cfg, now, last);
            if (d.action === 'grow') {
              expect(backlog > 0 || instances < cfg.min).toBe(true);
              instances += d.by;
            } else if (d.action === 'shrink') {
              expect(backlog === 0 || instances > cfg.max).toBe(true);
              instances -= d.by;
            } else expect(d.by).toBe(0);
            expect(d.by).toBeGreaterThanOrEqual(0);
            expect(instances).toBeGreaterThanOrEqual(cfg.min);
            expect(instances).toBeLessThanOrEqual(cfg.max);
          }
        },
      ),
      { numRuns },
    );
  });
});

describe('validatePoolOptions', () => {
  it('fills defaults: min 1, max = min, fixed size unless max > min', () => {
    expect(validatePoolOptions(undefined)).toMatchObject({ min: 1, max: 1, autoscale: false });
    expect(validatePoolOptions({ min: 4 })).toMatchObject({ min: 4, max: 4, autoscale: false });
    expect(validatePoolOptions({ max: 8 })).toMatchObject({ min: 1, max: 8, autoscale: true, backlogPerInstance: 10 });
    expect(validatePoolOptions({ min: 1, max: 8, scale: false }).autoscale).toBe(false);
  });

  it('throws InvalidPoolOptionError naming the option, also across threads', () => {
    const cases: Array<[unknown, string]> = [
      [{ min: 5, max: 2 }, 'min'], [{ min: -1 }, 'min'], [{ min: 1.5 }, 'min'], [{ max: 0 }, 'max'], [{ max: '4' }, 'max'],
      [{ min: 1, max: 4, scale: { backlogPerInstance: 0 } }, 'scale.backlogPerInstance'],
      [{ min: 1, max: 4, scale: { growAfterMs: -5 } }, 'scale.growAfterMs'], [{ min: 1, max: 4, scale: { shrinkBy: 0.5 } }, 'scale.shrinkBy'],
      [{ min: 1, max: 4, scale: { backlog: 3 } }, 'scale.backlog'], [{ scale: 'fast' }, 'scale'], [7, 'options'],
    ];
    for (const [o, option] of cases) {
      const err = thrown(() => validatePoolOptions(o));
      expect(err).toBeInstanceOf(InvalidPoolOptionError);
      expect(err.code).toBe('ERR_INVALID_POOL_OPTION');
      expect(err.details?.option).toBe(option);
      expect(err.message).toContain(option);
    }
    expect(reviveError(errorToData(thrown(() => validatePoolOptions({ min: 3, max: 1 }))))).toBeInstanceOf(InvalidPoolOptionError);
  });
});
