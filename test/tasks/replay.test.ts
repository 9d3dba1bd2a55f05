// A journal graph's replay after a restart, made deterministic: a graph is submitted (its dispatches never answered)
// and the runtime shut down, then messages are appended to the graph's journal by hand, as a process that crashed
// before its next snapshot leaves them; a new runtime resumes the graph. No task whose outcome is in that journal may
// be sent again: the graph dispatches only once the journal is replayed. The graph runs on the main thread, where
// the test's dispatcher (the Dispatcher seam) records what is sent. Both runtimes run in this process, one after the
// other: the second graph actor must not take over the first one's live index (module state of the main thread),
// whose attempts in flight (never answered) it then never sent again: it hung so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { ActorStore } from '../../persistence/store.ts';
import { graphActorId, routedDispatcher, TaskManager, useDispatcher, type Dispatcher, type TaskSpec } from '../../tasks/index.ts';
import { taskWorker } from '../fixtures/tasks/workers.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

const GRAPH = 'replayed';
const specs: TaskSpec[] = ['a', 'b', 'c'].map((id) => ({ id, type: 'work', capability: 'work' }));

/** Records every attempt sent; answers each with its task id at once when `answer`, never otherwise. */
function recorder(answer: boolean): Dispatcher & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    dispatch: (_ctx, _def, message) => {
      sent.push(message.messageId);
      return answer ? Promise.resolve(message.taskId) : new Promise(() => {});
    },
    cancel: () => undefined,
  };
}

async function runtime(dir: string): Promise<Runtime> {
  const rt = await Runtime.start({ workers: 0, dataDir: dir, stallMs: 0, spareWorker: false });
  await rt.spawn(taskWorker, { id: 'w' }); // offers 'work' (the submit checks it), never asked: the recorder answers
  return rt;
}

/** Append messages to the graph actor's journal after its snapshot, as a crash before the next snapshot leaves them. */
async function appendJournal(dir: string, messages: Array<{ type: string; payload: unknown }>): Promise<void> {
  const store = ActorStore.open(dir);
  try {
    const id = graphActorId(GRAPH);
    let seq = store.readSnapshot(id)!.seq;
    const last = store.journalEntries(id).at(-1)?.seq;
    if (last !== undefined) seq = Math.max(seq, last);
    let done: Promise<void> = Promise.resolve();
    for (const m of messages) done = store.appendJournal(id, ++seq, { id: `crafted-${seq}`, type: m.type, payload: m.payload }).done;
    await done;
  } finally {
    await store.close();
  }
}

describe('a journal graph resumed after a crash replays its journal before it dispatches', () => {
  let dir: string | undefined;
  afterEach(() => {
    useDispatcher(routedDispatcher);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Submit [a, b, c] (all sent, none answered), shut down, append `journal`, resume: the attempts sent then. */
  async function resumedWith(journal: Array<{ type: string; payload: unknown }>): Promise<{ sent: string[]; outcomes: Record<string, unknown> }> {
    dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-replay-'));
    const first = recorder(false);
    useDispatcher(first);
    const rt1 = await runtime(dir);
    const tasks1 = await TaskManager.start(rt1, { pin: 0 });
    await tasks1.submit({ id: GRAPH, tasks: specs, retry: false, durability: 'journal' });
    await until(() => first.sent.length === 3);
    await rt1.shutdown();
    await appendJournal(dir, journal);
    const second = recorder(true);
    useDispatcher(second);
    const rt2 = await runtime(dir);
    try {
      const tasks2 = await TaskManager.start(rt2, { pin: 0 });
      const g = await tasks2.graph(GRAPH);
      expect((await g.done()).status).toBe('completed');
      const outcomes = Object.fromEntries((await g.outcomes()).map((o) => [o.id, o.result]));
      return { sent: second.sent.sort(), outcomes };
    } finally {
      await rt2.shutdown();
    }
  }

  it('outcomes journaled after the last snapshot are applied first: their tasks are not sent again', async () => {
    // Two batches of outcomes: handled as the first message after the restart, the first batch alone would let the
    // graph send every task still ready by its record, b among them, whose outcome is in the second.
    const { sent, outcomes } = await resumedWith([
      { type: 'settleMany', payload: [['a', 1, 1, 'A from the journal']] },
      { type: 'settleMany', payload: [['b', 1, 1, 'B from the journal']] },
    ]);
    expect(sent).toEqual([`${GRAPH}/c/1`]);
    expect(outcomes).toEqual({ a: 'A from the journal', b: 'B from the journal', c: 'c' });
  });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
