/**
 * Named errors of the agent layer. They extend TroupeError (a stable `code`, facts in `details`) and are
 * registered with the kernel so they keep their class when they cross a thread.
 */
import { errorClass as define, registerErrors } from '../runtime/errors.ts';

/** defineAgent() input that is malformed (no model, bad maxTurns, a tool naming neither actor nor capability...). */
export class InvalidAgentDefinitionError extends define('ERR_INVALID_AGENT_DEFINITION') {}
/** A tool's input_schema is not valid JSON Schema. */
export class InvalidToolSchemaError extends define('ERR_INVALID_TOOL_SCHEMA') {}
/** A run took maxTurns model turns without the model ending its turn. */
export class MaxTurnsExceededError extends define('ERR_MAX_TURNS_EXCEEDED') {}
/** The model API refused the request for a reason no retry can fix (auth, permission, invalid request, billing). */
export class ModelRequestRejectedError extends define('ERR_MODEL_REQUEST_REJECTED') {}
/** Transient failures (network, timeouts, 5xx) persisted past the retry budget: supervision decides. */
export class ModelUnavailableError extends define('ERR_MODEL_UNAVAILABLE') {}
/** The conversation does not fit the model's context window even after compaction. */
export class ContextWindowExceededError extends define('ERR_CONTEXT_WINDOW_EXCEEDED') {}
/** The model declined to answer (stop_reason 'refusal'). */
export class ModelRefusalError extends define('ERR_MODEL_REFUSAL') {}
/** The price table has no entry for this model. */
export class UnknownModelPriceError extends define('ERR_UNKNOWN_MODEL_PRICE') {}
/** The real API was asked for (apiMode: 'anthropic') but ANTHROPIC_API_KEY is not set. */
export class MissingApiKeyError extends define('ERR_MISSING_API_KEY') {}
/** A model-server script or option that is malformed. */
export class InvalidScriptError extends define('ERR_INVALID_SCRIPT') {}
/** A quota governor option that is malformed (a limit that is not a positive number...). */
export class InvalidQuotaError extends define('ERR_INVALID_QUOTA') {}

/** The model's handoff tool input is malformed, names a capability this agent may not hand off to, or the chain is too long. */
export class InvalidHandoffError extends define('ERR_INVALID_HANDOFF') {}
/** No live agent (other than the sender and those the task went through) offers the capability handed off to. */
export class HandoffTargetNotFoundError extends define('ERR_HANDOFF_NO_TARGET') {}
/** The receiving agent's run failed: the task goes back to the sender. */
export class HandoffFailedError extends define('ERR_HANDOFF_FAILED') {}

/** The planner was asked for a plan it cannot run (not started on the main thread with startPlanner). */
export class InvalidPlanError extends define('ERR_INVALID_PLAN') {}

registerErrors(
  InvalidAgentDefinitionError, InvalidToolSchemaError, MaxTurnsExceededError, ModelRequestRejectedError,
  ModelUnavailableError, ContextWindowExceededError, ModelRefusalError, UnknownModelPriceError, MissingApiKeyError,
  InvalidScriptError, InvalidQuotaError, InvalidHandoffError, HandoffTargetNotFoundError, HandoffFailedError,
  InvalidPlanError,
);
