// Which graphs exist: a durable actor, so a TaskManager started in a new process finds the graphs to resume.
import { defineActor } from '../../runtime/index.ts';

export interface GraphEntry {
  durable: boolean;
  /** Durable graphs: 'journal' (durable mailbox) or 'snapshot' (snapshot after every message). */
  durability?: 'journal' | 'snapshot';
  createdAt: number;
  finished: boolean;
  /** Thread the graph actor is pinned to, if it was. */
  pin?: number;
}

export const registryActorId = 'troupe.tasks.registry';

export const taskRegistry = defineActor({
  kind: 'troupe.task-registry',
  persistence: { durableMailbox: true },
  init: () => ({ graphs: {} as Record<string, GraphEntry> }),
  handlers: {
    /** False (and nothing changed) when the id is taken. */
    register: (state, p: { graphId: string; entry: GraphEntry }) => {
      if (state.graphs[p.graphId] !== undefined) return false;
      state.graphs[p.graphId] = p.entry;
      return true;
    },
    finished: (state, p: { graphId: string; finished: boolean }) => {
      const g = state.graphs[p.graphId];
      if (g !== undefined && g.finished !== p.finished) g.finished = p.finished;
    },
    forget: (state, graphId: string) => {
      delete state.graphs[graphId];
    },
    list: (state) => state.graphs,
  },
});

/** The same registry in memory (runtimes without a dataDir). */
export const volatileTaskRegistry = defineActor({
  kind: 'troupe.task-registry.volatile',
  init: () => ({ graphs: {} as Record<string, GraphEntry> }),
  handlers: taskRegistry.handlers,
});
