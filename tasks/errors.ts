// Bad input to task graphs: each mistake a named error with a stable `code`, raised at submit (or add) before
// anything is changed, `details.taskId` naming the task at fault. Registered so they keep their class across
// threads (the graph actor may live on a worker).
import { errorClass as define, registerErrors } from '../runtime/errors.ts';

/** A task spec that is malformed (no id, no type, neither capability nor target, a bad timeout...). */
export class InvalidTaskError extends define('ERR_INVALID_TASK') {}
/** Two tasks with one id, in the batch or against the graph's existing tasks. */
export class DuplicateTaskIdError extends define('ERR_DUPLICATE_TASK_ID') {}
/** `dependsOn` names a task that is neither in the batch nor in the graph. */
export class UnknownDependencyError extends define('ERR_UNKNOWN_DEPENDENCY') {}
/** A priority that is not an integer 1..10 nor one of the names (critical, high, medium, low, background). */
export class InvalidPriorityError extends define('ERR_INVALID_PRIORITY') {}
/** A payload that cannot be stored: not cloneable between threads, or (durable graphs) not msgpack-encodable. */
export class TaskPayloadNotStorableError extends define('ERR_TASK_PAYLOAD_NOT_STORABLE') {}
/** What a worker answered cannot be stored as the task's result: the attempt fails (not retried). */
export class TaskResultNotStorableError extends define('ERR_TASK_RESULT_NOT_STORABLE') {}
/** No live actor offers the task's capability (checked at submit), or its target actor id is not running. */
export class UnknownCapabilityError extends define('ERR_UNKNOWN_CAPABILITY') {}
/** Cycles in the dependencies and the graph's deadlock policy is 'reject'; `details.cycles` lists them. */
export class TaskDeadlockError extends define('ERR_TASK_DEADLOCK') {}
/** No such task in the graph. */
export class TaskNotFoundError extends define('ERR_TASK_NOT_FOUND') {}
/** No such graph (never submitted with this manager's store). */
export class GraphNotFoundError extends define('ERR_GRAPH_NOT_FOUND') {}
/** Graph options that are not valid (policy, concurrency, ...); `details.option` names the field. */
export class InvalidGraphOptionError extends define('ERR_INVALID_GRAPH_OPTION') {}

registerErrors(
  InvalidTaskError, DuplicateTaskIdError, UnknownDependencyError, InvalidPriorityError, TaskPayloadNotStorableError,
  TaskResultNotStorableError, UnknownCapabilityError, TaskDeadlockError, TaskNotFoundError, GraphNotFoundError,
  InvalidGraphOptionError,
);
