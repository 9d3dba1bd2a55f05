// examples/task-actors.ts: workers a task graph dispatches to (definitions only: workers import this module).
import { defineActor } from '../runtime/index.ts';
import type { TaskMessage } from '../tasks/index.ts';

/** Offers 'research': each task message carries the task's payload and its dependencies' results. */
export const researcher = defineActor({
  kind: 'researcher',
  capabilities: ['research'],
  init: () => ({}),
  handlers: {
    research: (_state, msg: TaskMessage<{ topic: string }>) => `${msg.payload.topic}: ${msg.payload.topic.length} facts`,
    summarize: (_state, msg: TaskMessage) => Object.keys(msg.deps).sort().map((id) => msg.deps[id]).join('; '),
  },
});
