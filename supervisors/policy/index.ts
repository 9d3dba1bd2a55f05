export { InvalidSupervisorOptionError } from './errors.ts';
export { RestartIntensity, type IntensityLimits } from './intensity.ts';
export { Backoff, type BackoffOptions } from './backoff.ts';
export { CircuitBreaker, type CircuitOptions, type CircuitState, type CircuitSnapshot } from './circuit.ts';
export {
  affectedChildren,
  stopOrder,
  shouldRestart,
  type RestartStrategy,
  type RestartType,
  type ExitReason,
} from './strategy.ts';
export { RestartCredit, creditEligible } from './credit.ts';
