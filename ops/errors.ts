import { errorClass as define } from '../runtime/errors.ts';

/** A mutating admin call without a valid bearer token. */
export class UnauthorizedError extends define('ERR_UNAUTHORIZED') {}
/** An admin token (option or file) that is not usable. */
export class InvalidTokenError extends define('ERR_INVALID_TOKEN') {}
/** An ops server option that is not valid (host, port...). */
export class InvalidOpsOptionError extends define('ERR_INVALID_OPS_OPTION') {}
/** A request the admin API cannot act on (bad JSON body, missing field...). */
export class BadRequestError extends define('ERR_BAD_REQUEST') {}
/** The actor is not supervised (restart and circuit reset need a supervisor). */
export class NotSupervisedError extends define('ERR_NOT_SUPERVISED') {}
/** No such poison message. */
export class PoisonMessageNotFoundError extends define('ERR_POISON_NOT_FOUND') {}
/** The CLI could not reach the admin API. */
export class ConnectError extends define('ERR_CONNECT') {}
/** A circuit reset for an actor whose circuit is not open. */
export class CircuitNotOpenError extends define('ERR_CIRCUIT_NOT_OPEN') {}
/** A request body that is not valid JSON. */
export class InvalidJsonError extends define('ERR_INVALID_JSON') {}
/** A request body over the size limit. */
export class BodyTooLargeError extends define('ERR_BODY_TOO_LARGE') {}
/** installTracing() with a workerSetup that is not a file URL or a path (ops/tracing). */
export class TracingSetupError extends define('ERR_TRACING_SETUP') {}
