// Interim (replaced by the router-policy branch's pool scaling policy).
import { TroupeError } from '../../runtime/errors.ts';
export interface ScalingConfig { intervalMs: number; backlogPerInstance: number; sustainMs: number; idleMs: number; cooldownMs: number }
export interface ScalingState { since: number; lastChange: number; over: boolean; idle: boolean }
export class InvalidPoolOptionError extends TroupeError {
  static readonly code = 'ERR_INVALID_POOL_OPTION';
  override readonly code = 'ERR_INVALID_POOL_OPTION';
}
export function validatePoolOptions(o: { min: number; max: number; scale?: Partial<ScalingConfig> | false }): ScalingConfig | undefined {
  if (!Number.isInteger(o.min) || !Number.isInteger(o.max) || o.min < 0 || o.max < 1 || o.min > o.max) throw new InvalidPoolOptionError('min and max must be integers with 0 <= min <= max, max >= 1');
  if (o.scale === false) return undefined;
  return { intervalMs: 200, backlogPerInstance: 10, sustainMs: 500, idleMs: 2000, cooldownMs: 500, ...o.scale };
}
export function decideScaling(s: ScalingState, sample: { size: number; backlog: number }, c: ScalingConfig, now: number) {
  const per = sample.size === 0 ? Infinity : sample.backlog / sample.size;
  const over = per > c.backlogPerInstance; const idle = sample.backlog === 0;
  const state = { ...s, since: over !== s.over || idle !== s.idle ? now : s.since, over, idle };
  if (now - s.lastChange < c.cooldownMs) return { decision: { action: 'hold' as const, by: 0 }, state };
  if (over && now - state.since >= c.sustainMs) return { decision: { action: 'grow' as const, by: 1 }, state: { ...state, lastChange: now, since: now } };
  if (idle && now - state.since >= c.idleMs) return { decision: { action: 'shrink' as const, by: 1 }, state: { ...state, lastChange: now, since: now } };
  return { decision: { action: 'hold' as const, by: 0 }, state };
}
