// The router (issue: routing by capability). Importing this module installs it on every runtime started afterwards.
import './install.ts';
export { route } from './route.ts';
export { NoRouteError, InvalidRouteError, InvalidStrategyChoiceError } from './errors.ts';
export type { Candidate, Strategy, StrategyState, RouteMessage, Health } from './types.ts';
export { Pool, type PoolOptions } from './pool.ts';
