// `runtime.tasks`: the shape (`await runtime.tasks.submit({ tasks })`) without the kernel importing tasks/.
// Importing this module adds a getter to Runtime.prototype, as router/install.ts adds `runtime.router`. The service
// starts on first use with the defaults; call `tasks(runtime, options)` first to start it with other options.
import { Runtime } from '../runtime/runtime.ts';
import { tasks, type GraphHandle, type SubmitSpec, type TaskManager } from './manager.ts';
import type { GraphEntry } from './actor/registry.ts';

export interface TaskService {
  submit(spec: SubmitSpec): Promise<GraphHandle>;
  graph(graphId: string): Promise<GraphHandle>;
  graphs(): Promise<Record<string, GraphEntry>>;
  /** The manager itself (started if need be). */
  manager(): Promise<TaskManager>;
}

declare module '../runtime/runtime.ts' {
  interface Runtime {
    /** Task graphs (tasks/): submit, look up, resume. */
    readonly tasks: TaskService;
  }
}

const services = new WeakMap<Runtime, TaskService>();

Object.defineProperty(Runtime.prototype, 'tasks', {
  configurable: true,
  get(this: Runtime): TaskService {
    let s = services.get(this);
    if (s === undefined) {
      const rt = this;
      s = {
        submit: async (spec) => (await tasks(rt)).submit(spec),
        graph: async (id) => (await tasks(rt)).graph(id),
        graphs: async () => (await tasks(rt)).graphs(),
        manager: () => tasks(rt),
      };
      services.set(this, s);
    }
    return s;
  },
});
