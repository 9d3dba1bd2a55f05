/**
 * The agent's run journal: a durable actor (one per agent, next to it) holding the state of the runs in flight.
 * An agent's `run` handler is one long async message, so its own state only commits when the run ends; every
 * completed model response and every tool result is therefore saved here first, by a send that resolves once it
 * is on disk. After a crash, a lost thread or a killed process, the replayed run reads it back and carries on:
 * no model call is sent again for a response it has, no tool runs again for a result it has.
 */
import { defineActor } from '../actors/define.ts';
import type { RunDelta, RunState } from './run-state.ts';

/**
 * Saves between whole-state snapshots of the journal. A save's message (the run's small fields and the messages
 * new since the last save) is journaled on disk before the agent goes on; the journal's state (every run's whole
 * conversation) is snapshotted only every SNAPSHOT_EVERY saves, and a restart handles the saves since the last one
 * again, from it, in order (its handlers are pure functions of state and message). Per save: a write of the turn's
 * messages, plus 1/16 of a snapshot, instead of a snapshot of the whole conversation.
 */
export const SNAPSHOT_EVERY = 16;

export const agentJournal = defineActor({
  kind: 'troupe.agent-journal',
  persistence: { durableMailbox: true, snapshot: { everyMessages: SNAPSHOT_EVERY } },
  init: () => ({ runs: {} as Record<string, RunState> }),
  handlers: {
    get: (s, runId: string) => s.runs[runId],
    save: (s, d: RunDelta) => {
      const prev = s.runs[d.runId];
      if ('messages' in d) s.runs[d.runId] = d as RunState;
      else {
        const { append, ...fields } = d;
        if (!prev) throw new Error(`journal: a delta for run ${d.runId} that it does not have`);
        Object.assign(prev, fields);
        if (!('pending' in fields)) delete prev.pending;
        if (!('handoff' in fields)) delete prev.handoff;
        prev.messages.push(...append);
      }
    },
    /** A finished run is in the agent's own state now (its handler returned): the journal lets it go. */
    forget: (s, runIds: string[]) => {
      for (const id of runIds) delete s.runs[id];
    },
    list: (s) => Object.keys(s.runs),
  },
});

export function journalId(agentId: string): string {
  return `${agentId}~journal`;
}
