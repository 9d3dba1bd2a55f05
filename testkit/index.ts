// troupe/testkit: deterministic simulation of Troupe systems for property-based tests (docs/testkit.md).
export { Simulation, type SimulationOptions } from './simulation.ts';
export type { HandledMessage } from './instrument.ts';
export { type Fault, type FaultPlan, type ModelFaultKind, MODEL_FAULT_KINDS, validatePlan, printPlan } from './faults.ts';
export { SimulatedModel, type SimulatedModelOptions, type ModelCall, type Rule, type ScriptedReply } from './model.ts';
export { SeededRandom } from './random.ts';
export { VirtualClock } from './virtual-clock.ts';
export { Trace, type TraceEvent } from './trace.ts';
export {
  StepBudgetExceededError, TimeBudgetExceededError, UnknownFaultTargetError, InvalidSimulationOptionError,
  NondeterminismError, SimulationStoppedError, InjectedFaultError,
} from './errors.ts';
export { simCheck, SimulationPropertyError, faultArbitrary, faultPlanArbitrary, messagesArbitrary, randomPlan, type SimRun, type SimCheckOptions, type FaultArbitraryOptions, type PlannedMessage } from './property.ts';
export { assertInvariants, exactlyOnce, nothingLost, intensityRespected, stateMatches, InvariantViolationError } from './invariants.ts';
