import { errorClass } from '../runtime/errors.ts';

/** A run handled more scheduling steps than its budget (`maxSteps`): a property that never terminates, or a livelock. */
export class StepBudgetExceededError extends errorClass('ERR_SIM_STEP_BUDGET') {}
/** A run's virtual time passed its budget (`maxVirtualMs`): something keeps re-arming timers (a restart loop, a poll). */
export class TimeBudgetExceededError extends errorClass('ERR_SIM_TIME_BUDGET') {}
/** A fault plan names an actor (or a thread) the simulation never spawned. */
export class UnknownFaultTargetError extends errorClass('ERR_SIM_UNKNOWN_TARGET') {}
/** A fault plan or a Simulation option that is not valid. */
export class InvalidSimulationOptionError extends errorClass('ERR_SIM_INVALID_OPTION') {}
/** A handler used something that escapes the simulation (a real timer, real I/O): the run would not replay. */
export class NondeterminismError extends errorClass('ERR_SIM_NONDETERMINISM') {}
/** The simulation was used after stop(). */
export class SimulationStoppedError extends errorClass('ERR_SIM_STOPPED') {}
/** The crash a fault plan injects into a handler or an init (so reports can tell it from a real bug). */
export class InjectedFaultError extends errorClass('ERR_SIM_INJECTED_FAULT') {}
