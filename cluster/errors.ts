import { errorClass, registerErrors } from '../runtime/errors.ts';

/** NATS could not be reached when the node joined (`details.servers` names the addresses tried). */
export class ClusterUnreachableError extends errorClass('ERR_CLUSTER_UNREACHABLE') {}
/** Another live process of the cluster already goes by this node id. */
export class NodeIdTakenError extends errorClass('ERR_NODE_ID_TAKEN') {}
/** A message to an actor on another node is larger than the NATS server's max_payload. */
export class PayloadTooLargeError extends errorClass('ERR_PAYLOAD_TOO_LARGE') {}
/** The connection to NATS is down (it reconnects by itself); with `whenDisconnected: 'fail'` remote calls fail fast. */
export class ClusterDisconnectedError extends errorClass('ERR_CLUSTER_DISCONNECTED') {}
/** The node hosting the target left the cluster (or stopped heartbeating) before it replied. */
export class NodeLostError extends errorClass('ERR_NODE_LOST') {}
/** `Runtime.start({ cluster })` with an option that is not valid. */
export class InvalidClusterOptionError extends errorClass('ERR_INVALID_CLUSTER_OPTION') {}

// Rebuilt with their class after crossing a thread (a worker's ask to a remote actor is answered on the main thread).
registerErrors(ClusterUnreachableError, NodeIdTakenError, PayloadTooLargeError, ClusterDisconnectedError, NodeLostError, InvalidClusterOptionError);

/** `spawn(def, { node })` names a node that never joined this cluster. */
export class UnknownNodeError extends errorClass('ERR_UNKNOWN_NODE') {}
/** A node asked to spawn an actor did not confirm it in time (it may still start there). */
export class SpawnTimeoutError extends errorClass('ERR_SPAWN_TIMEOUT') {}
registerErrors(UnknownNodeError, SpawnTimeoutError);
