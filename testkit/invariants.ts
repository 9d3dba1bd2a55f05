import { isDeepStrictEqual } from 'node:util';
import type { CrashReport } from '../supervisors/supervisor.ts';
import { errorClass } from '../runtime/errors.ts';
import type { Simulation } from './simulation.ts';

/** One or more invariants do not hold; `details.violations` lists each. */
export class InvariantViolationError extends errorClass('ERR_SIM_INVARIANT') {}

/**
 * Invariant helpers: each returns the list of violations (empty when it holds), so a property can combine them and
 * report every one; `assertInvariants` throws them as one InvariantViolationError.
 */
export function assertInvariants(...lists: string[][]): void {
  const violations = lists.flat();
  if (violations.length > 0) throw new InvariantViolationError(`${violations.length} invariant violation(s):\n  ${violations.join('\n  ')}`, { details: { violations } });
}

/** Every acknowledged message id appears exactly once among the applied ones (from the actors' state, say); none twice. */
export function exactlyOnce(acknowledged: Iterable<string>, applied: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const id of applied) counts.set(id, (counts.get(id) ?? 0) + 1);
  const out: string[] = [];
  for (const id of acknowledged) {
    const n = counts.get(id) ?? 0;
    if (n !== 1) out.push(`acknowledged message '${id}' applied ${n} times (expected exactly once)`);
  }
  for (const [id, n] of counts) if (n > 1) out.push(`message '${id}' applied ${n} times`);
  return [...new Set(out)];
}

/**
 * Nothing lost since the system last started: every message the simulation delivered to an actor was handled to
 * completion, became a dead letter (which carries its reason), or went down with a simulated thread that was lost.
 * Checked per receiver and message type, at idle.
 */
export function nothingLost(sim: Simulation): string[] {
  const out: string[] = [];
  const accounted = new Map<string, number>();
  const key = (to: string, type: string) => `${to} '${type}'`;
  for (const h of sim.handled) if (h.system === sim.systemCrashes && h.outcome === 'applied') accounted.set(key(h.actor, h.type), (accounted.get(key(h.actor, h.type)) ?? 0) + 1);
  for (const d of sim.deadLettersSinceStart()) accounted.set(key(d.to, d.type), (accounted.get(key(d.to, d.type)) ?? 0) + 1);
  // Lost with a simulated thread (in its mailboxes, on their way to it, or sent from it and not yet posted).
  for (const [k, n] of sim.lostWithThreadsSinceStart()) accounted.set(k, (accounted.get(k) ?? 0) + n);
  for (const [k, n] of sim.landedSinceStart()) {
    const seen = accounted.get(k) ?? 0;
    if (seen < n) out.push(`${k}: ${n} delivered, ${seen} handled or dead-lettered: ${n - seen} lost without a reason`);
  }
  return out;
}

/**
 * Restart intensity respected: no window of `withinMs` (inclusive at its old end, as in OTP) holds more than
 * `maxRestarts` restart decisions of `supervisor` (per child when `perChild`, as with onExhausted 'open-circuit').
 */
export function intensityRespected(crashes: readonly CrashReport[], limits: { supervisor: string; maxRestarts: number; withinMs: number; perChild?: boolean }): string[] {
  const groups = new Map<string, number[]>();
  for (const c of crashes) {
    if (c.supervisor !== limits.supervisor || c.decision !== 'restart') continue;
    const g = limits.perChild ? c.actorId : limits.supervisor;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(c.at);
  }
  const out: string[] = [];
  for (const [g, stamps] of groups) {
    for (let i = 0; i < stamps.length; i++) {
      const inWindow = stamps.filter((t) => t <= stamps[i] && t >= stamps[i] - limits.withinMs).length;
      if (inWindow > limits.maxRestarts) {
        out.push(`${g}: ${inWindow} restarts within ${limits.withinMs} ms ending at ${stamps[i]} (maxRestarts ${limits.maxRestarts})`);
        break;
      }
    }
  }
  return out;
}

/** The actor's state equals the model's (a short rendering of both when it does not). */
export function stateMatches(actor: string, actual: unknown, model: unknown): string[] {
  if (isDeepStrictEqual(actual, model)) return [];
  const render = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 197)}...` : s;
  };
  return [`${actor}: state ${render(actual)} differs from the model's ${render(model)}`];
}
