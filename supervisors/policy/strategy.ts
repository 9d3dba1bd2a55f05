import { InvalidSupervisorOptionError } from './errors.ts';

export type RestartStrategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
export type RestartType = 'permanent' | 'transient' | 'temporary';
export type ExitReason = 'normal' | 'shutdown' | 'crash';

/**
 * Which children restart when `failed` exits, in start order (OTP). The caller stops them in `stopOrder` and
 * starts them again in this order, and records the whole group as ONE restart in its intensity.
 * A `failed` id that is not a child gives [] rather than throwing: as in OTP, a late exit of a child that was
 * already removed is simply ignored.
 */
export function affectedChildren(strategy: RestartStrategy, children: readonly string[], failed: string): string[] {
  const at = children.indexOf(failed);
  switch (strategy) {
    case 'one-for-one':
      return at < 0 ? [] : [failed];
    case 'one-for-all':
      return at < 0 ? [] : [...children];
    case 'rest-for-one':
      return at < 0 ? [] : children.slice(at);
    default:
      throw new InvalidSupervisorOptionError('strategy', `unknown strategy ${String(strategy)}`);
  }
}

/** Children stop in reverse start order, so a child never outlives the siblings it was started after. */
export function stopOrder(ids: readonly string[]): string[] {
  return [...ids].reverse();
}

/**
 * OTP restart types: permanent always restarts, temporary never, transient only after an abnormal exit.
 * Any reason other than 'normal' or 'shutdown' is abnormal, as in OTP.
 */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  switch (restart) {
    case 'permanent':
      return true;
    case 'temporary':
      return false;
    case 'transient':
      return reason !== 'normal' && reason !== 'shutdown';
    default:
      throw new InvalidSupervisorOptionError('restart', `unknown restart type ${String(restart)}`);
  }
}
