import type { ActorDefinition, InitArgs } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import type { MailboxSpec } from '../mailbox/mailbox.ts';
import { capabilitiesProblem } from '../runtime/validate.ts';
import { mailboxSpecProblem } from '../mailbox/mailbox.ts';
import {
  Backoff, CircuitBreaker, InvalidSupervisorOptionError, RestartIntensity, type BackoffOptions, type CircuitOptions,
  type IntensityLimits, type RestartStrategy, type RestartType,
} from './policy/index.ts';

/** How a child is stopped: at once, after a grace period (then killed), or waiting as long as it takes. */
export type ShutdownPolicy = 'kill' | 'wait' | { graceMs: number };

export interface ChildSpec<D extends ActorDefinition = ActorDefinition> {
  /** The child's actor id: stable across restarts, so refs to it keep working. */
  id: string;
  actor: D;
  args?: InitArgs<D>;
  restart?: RestartType;
  shutdown?: ShutdownPolicy;
  /** Host on this thread (0 = main, 1..n = workers); least-loaded worker by default. */
  pin?: number;
  mailbox?: MailboxSpec;
  /** An async handler running longer than this crashes the child (reason: timeout). 0 = no limit. */
  handlerTimeoutMs?: number;
  /** Capabilities it offers on top of its definition's (routing by capability). */
  capabilities?: readonly string[];
  /**
   * Cluster-owned (needs `Runtime.start({ cluster })` with the cluster layer): the child is a failover actor, its
   * mail journaled in the cluster before it is handled, and when its node dies a surviving node hosts it with its
   * state rebuilt (docs/cluster.md). `snapshotEvery`: as spawnFailover's. Its `capabilities` go with it to the node
   * that hosts it, and its bounded `mailbox` is a window (as spawnFailover's: none of its journaled mail is dropped).
   * Not with pin, handlerTimeoutMs or a priority mailbox (its incarnations run on each node's main thread, outside
   * the kernel's supervision, and apply the journal in its order).
   */
  failover?: boolean | { snapshotEvery?: number };
}

export interface SupervisorSpec {
  id: string;
  strategy?: RestartStrategy;
  /** At most maxRestarts restarts within withinMs (OTP). Default 3 within 5000 ms. */
  intensity?: IntensityLimits;
  /** Delay before each restart (Akka backoff). Default: no delay. */
  backoff?: Partial<BackoffOptions>;
  /**
   * When intensity runs out: 'escalate' (this supervisor fails and its parent decides, as in OTP; intensity is
   * counted over all children) or 'open-circuit' (the failing child's circuit opens; intensity is counted per
   * child, so one broken agent does not trip its siblings).
   */
  onExhausted?: 'escalate' | 'open-circuit';
  circuit?: Partial<CircuitOptions>;
  /** Messages held for a child while it restarts or backs off. Default 1000 (as Akka's stash). */
  stash?: number;
  /** Restart type of this supervisor as the child of another. */
  restart?: RestartType;
  children: Array<ChildSpec<any> | SupervisorSpec>;
}

export const defaults = {
  intensity: { maxRestarts: 3, withinMs: 5000 },
  backoff: { minMs: 0, maxMs: 30_000, randomFactor: 0.2, resetAfterMs: 10_000 },
  circuit: { resetMs: 1000, maxResetMs: 60_000, multiplier: 2 },
  stash: 1000,
  shutdown: { graceMs: 5000 } as ShutdownPolicy,
};

export function isSupervisorSpec(spec: ChildSpec | SupervisorSpec): spec is SupervisorSpec {
  return Array.isArray((spec as SupervisorSpec).children);
}

/** Check a whole tree up front (every bad option is a named error before anything starts) and return it. */
export function defineSupervisor(spec: SupervisorSpec): SupervisorSpec {
  validateSupervisor(spec, new Set());
  return spec;
}

function fail(option: string, detail: string): never {
  throw new InvalidSupervisorOptionError(option, detail);
}

export function validateSupervisor(spec: SupervisorSpec, ids: Set<string>): void {
  if (typeof spec !== 'object' || spec === null) fail('supervisor', 'must be an object');
  checkId(spec.id, ids);
  if (spec.strategy !== undefined && !['one-for-one', 'one-for-all', 'rest-for-one'].includes(spec.strategy)) fail('strategy', `unknown strategy ${String(spec.strategy)}`);
  if (spec.onExhausted !== undefined && spec.onExhausted !== 'escalate' && spec.onExhausted !== 'open-circuit') fail('onExhausted', 'must be "escalate" or "open-circuit"');
  if (spec.stash !== undefined && (!Number.isInteger(spec.stash) || spec.stash < 0)) fail('stash', 'must be a non-negative integer');
  checkRestart(spec.restart);
  // The policy constructors validate their own numbers.
  new RestartIntensity({ ...defaults.intensity, ...spec.intensity });
  new Backoff({ ...defaults.backoff, ...spec.backoff }, Math.random);
  new CircuitBreaker({ ...defaults.circuit, ...spec.circuit });
  if (!Array.isArray(spec.children)) fail('children', 'must be an array');
  for (const child of spec.children) {
    if (isSupervisorSpec(child)) validateSupervisor(child, ids);
    else validateChild(child, ids);
  }
}

export function validateChild(spec: ChildSpec, ids: Set<string>): void {
  if (typeof spec !== 'object' || spec === null) fail('child', 'must be an object');
  checkId(spec.id, ids);
  if (!isActorDefinition(spec.actor)) fail('actor', `child ${spec.id}: actor must be a definition made by defineActor`);
  checkRestart(spec.restart);
  const s = spec.shutdown;
  if (s !== undefined && s !== 'kill' && s !== 'wait' && !(typeof s === 'object' && s !== null && Number.isFinite(s.graceMs) && s.graceMs >= 0)) {
    fail('shutdown', `child ${spec.id}: must be 'kill', 'wait' or { graceMs }`);
  }
  if (spec.handlerTimeoutMs !== undefined && !(Number.isFinite(spec.handlerTimeoutMs) && spec.handlerTimeoutMs >= 0)) fail('handlerTimeoutMs', 'must be a non-negative number');
  const problem = mailboxSpecProblem(spec.mailbox);
  if (problem) fail('mailbox', problem);
  const capProblem = capabilitiesProblem(spec.capabilities);
  if (capProblem) fail('capabilities', capProblem);
  if (spec.failover !== undefined && spec.failover !== false) checkFailover(spec);
}

function checkFailover(spec: ChildSpec): void {
  const f = spec.failover;
  if (f !== true && (typeof f !== 'object' || f === null)) fail('failover', `child ${spec.id}: must be true or { snapshotEvery }`);
  const every = f === true ? undefined : f.snapshotEvery;
  if (every !== undefined && !(Number.isInteger(every) && every >= 0)) fail('failover', `child ${spec.id}: snapshotEvery must be a whole number of messages, 0 or more`);
  for (const option of ['pin', 'handlerTimeoutMs'] as const) {
    if (spec[option] !== undefined) fail('failover', `child ${spec.id}: a cluster-owned child takes no ${option}`);
  }
  const mailbox = spec.mailbox ?? spec.actor.mailbox;
  if (mailbox?.kind === 'priority') fail('failover', `child ${spec.id}: a cluster-owned child takes no priority mailbox (it handles its journal in journal order)`);
}

function checkId(id: unknown, ids: Set<string>): void {
  if (typeof id !== 'string' || id === '' || id.startsWith('$')) fail('id', 'must be a non-empty string not starting with $');
  if (ids.has(id)) fail('id', `'${id}' is used twice in the tree`);
  ids.add(id);
}

function checkRestart(r: unknown): void {
  if (r !== undefined && r !== 'permanent' && r !== 'transient' && r !== 'temporary') fail('restart', `unknown restart type ${String(r)}`);
}
