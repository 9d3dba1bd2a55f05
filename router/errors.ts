import { errorClass, registerErrors } from '../runtime/errors.ts';

/** No live actor offers what the route requires (asks and sends fail at once; tells become 'no-route' dead letters). */
export class NoRouteError extends errorClass('ERR_NO_ROUTE') {}
/** An address that is neither an actor ref nor a valid route (capability spec). */
export class InvalidRouteError extends errorClass('ERR_INVALID_ROUTE') {}
/** A strategy threw, or returned something that is not one of its candidates: the message fails, nothing else. */
export class InvalidStrategyChoiceError extends errorClass('ERR_INVALID_STRATEGY_CHOICE') {}

registerErrors(NoRouteError, InvalidRouteError, InvalidStrategyChoiceError);
