// Workers of the task benches (definitions only: worker threads import this module).
import { defineActor } from '../../runtime/index.ts';
import type { TaskMessage } from '../../tasks/types.ts';

export const noopWorker = defineActor({
  kind: 'bench-noop-worker',
  capabilities: ['noop'],
  init: () => ({}),
  handlers: {
    work: (_s, msg: TaskMessage) => msg.attempt,
  },
});

export const sleepWorker = defineActor({
  kind: 'bench-sleep-worker',
  init: () => ({}),
  handlers: {
    work: (_s, msg: TaskMessage<{ ms: number }>) => new Promise((r) => setTimeout(() => r(msg.payload.ms), msg.payload.ms)),
  },
});
