// The router: routing by capability (README "Routing by capability"). Importing this module installs it on every
// runtime started afterwards (runtime/extensions.ts); `import ... from 'troupe'` does.
import './install.ts';
export { route } from './route.ts';
export { Pool, type PoolOptions } from './pool.ts';
export { NoRouteError, InvalidRouteError, InvalidStrategyChoiceError } from './errors.ts';
export { RoutingFailedError, UnknownStrategyError, InvalidRetryPolicyError, InvalidPoolOptionError, InvalidPolicyOptionError } from './policy/errors.ts';
export { strategies, resolveStrategy, type StrategyName } from './strategies/index.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './policy/retry.ts';
export type { ScaleOptions } from './policy/scaling.ts';
export type { Candidate, Strategy, StrategyState, RouteMessage, Health } from './types.ts';
