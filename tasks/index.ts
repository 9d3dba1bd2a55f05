// Durable task graphs (issue 13): a priority task queue with dependencies, deadlock detection and resolution,
// retries, progress, on the router. The pure core is in graph/, the durable actor in actor/.
export { TaskManager, GraphHandle, tasks, type TaskManagerOptions, type SubmitSpec, type Durability } from './manager.ts';
export { PRIORITY, DEFAULT_PRIORITY, MIN_PRIORITY, MAX_PRIORITY, type PriorityName } from './priority.ts';
export { taskTopic, graphActorId, taskGraph, snapshotTaskGraph, volatileTaskGraph, useDispatcher } from './actor/graph-actor.ts';
export { routedDispatcher, type Dispatcher } from './actor/dispatch.ts';
export { taskMessageId } from './actor/dispatch.ts';
export { TaskGraph } from './graph/graph.ts';
export { criticalPath } from './graph/estimate.ts';
export * from './errors.ts';
export type * from './types.ts';
