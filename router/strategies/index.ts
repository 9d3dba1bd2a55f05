// The built-in strategies by name, and resolution of a route's `strategy` (a name or the user's own function).
import { UnknownStrategyError } from '../policy/errors.ts';
import type { Strategy } from '../types.ts';
import { consistentHash } from './consistent-hash.ts';
import { leastLoaded } from './least-loaded.ts';
import { p2c } from './p2c.ts';
import { random } from './random.ts';
import { roundRobin } from './round-robin.ts';
import { weightedAdaptive } from './weighted-adaptive.ts';

export { consistentHash, rendezvous, type ConsistentHashOptions } from './consistent-hash.ts';
export { leastLoaded, pickLeastLoaded } from './least-loaded.ts';
export { costOf, p2c, type P2cOptions } from './p2c.ts';
export { loadOf, preferBest } from './prefer.ts';
export { random } from './random.ts';
export { roundRobin } from './round-robin.ts';
export { weightedAdaptive, type WeightedAdaptiveOptions } from './weighted-adaptive.ts';
export { UnknownStrategyError } from '../policy/errors.ts';

export type StrategyName = 'least-loaded' | 'round-robin' | 'random' | 'p2c' | 'consistent-hash' | 'hash-ring' | 'weighted-adaptive';

/** The built-ins with their default options. */
export const strategies: Readonly<Record<StrategyName, Strategy>> = Object.freeze({
  'least-loaded': leastLoaded,
  'round-robin': roundRobin,
  random,
  p2c: p2c(),
  'consistent-hash': consistentHash(),
  // O(1) per choice on large sets, less even than rendezvous on small ones (docs/router-policies.md).
  'hash-ring': consistentHash({ method: 'ring' }),
  'weighted-adaptive': weightedAdaptive(),
});

/** A strategy function as given, or the built-in of that name; anything else throws UnknownStrategyError. */
export function resolveStrategy(nameOrFn: string | Strategy): Strategy {
  if (typeof nameOrFn === 'function') return nameOrFn;
  if (typeof nameOrFn === 'string' && Object.hasOwn(strategies, nameOrFn)) return strategies[nameOrFn as StrategyName];
  const shown = typeof nameOrFn === 'string' ? `'${nameOrFn}'` : typeof nameOrFn;
  throw new UnknownStrategyError(`unknown routing strategy ${shown}; known: ${Object.keys(strategies).join(', ')}`, {
    details: { strategy: typeof nameOrFn === 'string' ? nameOrFn : typeof nameOrFn },
  });
}
