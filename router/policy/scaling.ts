// Pool scaling: how many instances a pool should gain or lose, from samples of its backlog taken by the plumbing.
// Grow when the backlog per instance stays above a threshold for a sustained period; shrink when the pool has
// been idle for a period; never outside [min, max]; a cooldown after each change lets its effect show before the
// next one (growing is quick and shrinking slow, since an overloaded pool costs more than an idle instance).
import { InvalidPoolOptionError, show } from './errors.ts';

export interface ScaleOptions {
  /** Grow while queued + in-flight messages per instance stay above this (default 10). */
  readonly backlogPerInstance?: number;
  /** ... for this long (default 1 s). */
  readonly growAfterMs?: number;
  /** Shrink once backlog per instance has stayed at or below idleBacklogPerInstance this long (default 30 s). */
  readonly idleAfterMs?: number;
  /** What counts as idle (default 0: nothing queued or in flight). */
  readonly idleBacklogPerInstance?: number;
  /** No growth sooner than this after the last change (default 2 s). */
  readonly growCooldownMs?: number;
  /** No shrinking sooner than this after the last change (default 30 s). */
  readonly shrinkCooldownMs?: number;
  /** Most instances added at once (default Infinity; growth is also capped at doubling). */
  readonly maxGrowBy?: number;
  /** Instances removed at once (default 1). */
  readonly shrinkBy?: number;
}

/** What `runtime.pool(def, options)` takes that this policy reads (other fields are the plumbing's). */
export interface PoolOptions {
  readonly min?: number;
  readonly max?: number;
  /** Scaling thresholds, or false for a fixed-size pool of `min` instances. */
  readonly scale?: ScaleOptions | false;
}

export interface PoolConfig extends Required<ScaleOptions> {
  readonly min: number;
  readonly max: number;
  readonly autoscale: boolean;
}

/** One observation of a pool (the plumbing samples it, say once a second). */
export interface PoolSample {
  readonly at: number;
  readonly instances: number;
  /** Queued plus in-flight messages over all its members. */
  readonly backlog: number;
}

export interface ScaleDecision {
  readonly action: 'grow' | 'shrink' | 'hold';
  /** Instances to add or remove (0 for hold). */
  readonly by: number;
  readonly reason: string;
}

const SCALE_DEFAULTS: Required<ScaleOptions> = {
  backlogPerInstance: 10, growAfterMs: 1000, idleAfterMs: 30_000, idleBacklogPerInstance: 0, growCooldownMs: 2000,
  shrinkCooldownMs: 30_000, maxGrowBy: Infinity, shrinkBy: 1,
};

/** Complete pool config; InvalidPoolOptionError (`details.option`) for min > max, negative or fractional sizes... */
export function validatePoolOptions(options: unknown): PoolConfig {
  const bad = (option: string, must: string, value: unknown): never => {
    throw new InvalidPoolOptionError(`pool option ${option} ${must} (got ${show(value)})`, { details: { option } });
  };
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return bad('options', 'must be an object', options);
  const o = options as PoolOptions;
  const size = (name: 'min' | 'max', v: unknown) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(name, 'must be an integer >= 0', v);
    return v as number;
  };
  const min = size('min', o.min ?? 1);
  const max = size('max', o.max ?? Math.max(min, 1));
  if (max < 1) bad('max', 'must be at least 1', max);
  if (min > max) bad('min', `must not exceed max (${max})`, min);
  if (o.scale === false) return Object.freeze({ ...SCALE_DEFAULTS, min, max, autoscale: false });
  if (o.scale !== undefined && (typeof o.scale !== 'object' || o.scale === null || Array.isArray(o.scale))) bad('scale', 'must be an object or false', o.scale);
  const scale = { ...SCALE_DEFAULTS, ...(o.scale ?? {}) };
  for (const k of Object.keys(scale) as Array<keyof ScaleOptions>) {
    if (!(k in SCALE_DEFAULTS)) bad(`scale.${k}`, `is not a scaling option (known: ${Object.keys(SCALE_DEFAULTS).join(', ')})`, k);
    const v = scale[k];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) bad(`scale.${k}`, 'must be a number >= 0', v);
  }
  if (!(scale.backlogPerInstance > 0)) bad('scale.backlogPerInstance', 'must be > 0', scale.backlogPerInstance);
  if (scale.idleBacklogPerInstance >= scale.backlogPerInstance) bad('scale.idleBacklogPerInstance', 'must be below backlogPerInstance', scale.idleBacklogPerInstance);
  for (const k of ['maxGrowBy', 'shrinkBy'] as const) {
    if (!(scale[k] >= 1) || (scale[k] !== Infinity && !Number.isSafeInteger(scale[k]))) bad(`scale.${k}`, 'must be an integer >= 1', scale[k]);
  }
  return Object.freeze({ ...scale, min, max, autoscale: max > min });
}

/**
 * Grow, shrink or hold, from samples in time order (the last is the pool now) and the time of the last change.
 * Outside [min, max] it corrects at once; a pool of zero with work waiting grows by one at once (scale from zero).
 */
export function decide(samples: readonly PoolSample[], config: PoolConfig, now: number, lastScaledAt = -Infinity): ScaleDecision {
  const seen = samples.filter((s) => s.at <= now);
  const last = seen.at(-1);
  if (last === undefined) return hold('no samples yet');
  const n = last.instances;
  if (n < config.min) return { action: 'grow', by: config.min - n, reason: `below min ${config.min}` };
  if (n > config.max) return { action: 'shrink', by: n - config.max, reason: `above max ${config.max}` };
  if (!config.autoscale) return hold('fixed size');
  if (n === 0) return last.backlog > 0 ? { action: 'grow', by: 1, reason: 'work waiting on an empty pool' } : hold('empty and idle');
  const perInstance = (s: PoolSample) => (s.instances > 0 ? s.backlog / s.instances : s.backlog > 0 ? Infinity : 0);

  if (n < config.max && sustained(seen, (s) => perInstance(s) > config.backlogPerInstance) <= now - config.growAfterMs) {
    if (now - lastScaledAt < config.growCooldownMs) return hold('backlog high, cooling down');
    const need = Math.ceil(last.backlog / config.backlogPerInstance) - n;
    const by = Math.max(1, Math.min(need, n, config.maxGrowBy, config.max - n));
    return { action: 'grow', by, reason: `backlog per instance above ${config.backlogPerInstance} for ${config.growAfterMs} ms` };
  }
  if (n > config.min && sustained(seen, (s) => perInstance(s) <= config.idleBacklogPerInstance) <= now - config.idleAfterMs) {
    if (now - lastScaledAt < config.shrinkCooldownMs) return hold('idle, cooling down');
    return { action: 'shrink', by: Math.min(config.shrinkBy, n - config.min), reason: `idle for ${config.idleAfterMs} ms` };
  }
  return hold('within thresholds');
}

/** Since when `holds` has been true of every sample up to the last (Infinity when the last fails it). */
function sustained(samples: readonly PoolSample[], holds: (s: PoolSample) => boolean): number {
  let since = Infinity;
  for (let i = samples.length - 1; i >= 0 && holds(samples[i]); i--) since = samples[i].at;
  return since;
}

function hold(reason: string): ScaleDecision {
  return { action: 'hold', by: 0, reason };
}
