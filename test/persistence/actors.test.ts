import { describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { startRuntime, eventually, sleep } from '../kernel/helpers.ts';
import { tempDir } from './helpers.ts';
import { cadenceCounter, durableCounter, tracedJournal, forgetful, forgetfulLean, forgiving, fragileLog, notebook, sparse } from '../fixtures/durable.ts';
import { ActorStore, ENV_OPTIONS } from '../../persistence/index.ts';
import { ActorCrashedError, InvalidSpawnOptionError } from '../../runtime/errors.ts';
import type { Runtime } from '../../runtime/index.ts';

/** Run `body` against a fresh runtime on `dataDir`, then shut it down (as a process restart would). */
async function session<T>(dataDir: string, workers: number, body: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await startRuntime({ workers, dataDir });
  try {
    return await body(rt);
  } finally {
    await rt.shutdown();
  }
}

/** Read the store directly, the way the runtime's threads do. */
async function withStore<T>(dataDir: string, body: (store: ActorStore) => T | Promise<T>): Promise<T> {
  const store = ActorStore.open(dataDir);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

describe.each([0, 2])('persistent actors with %i workers', (workers) => {
  it('resume from their last snapshot after the runtime restarts', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const n = await rt.spawn(notebook, { id: 'diary', args: { title: 'mine' } });
      rt.tell(n, 'write', 'one');
      rt.tell(n, 'write', 'two');
      expect((await rt.ask(n, 'read')).notes).toEqual(['one', 'two']);
    });
    await session(dataDir, workers, async (rt) => {
      const n = await rt.spawn(notebook, { id: 'diary', args: { title: 'ignored: the snapshot wins' } });
      expect(await rt.ask(n, 'read')).toEqual({ notes: ['one', 'two'], title: 'mine' });
    });
  });

  it('retention is bounded: one snapshot per actor, an empty journal once handled', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'busy' });
      await Promise.all(Array.from({ length: 300 }, () => rt.send(c, 'inc')));
      expect(await rt.ask(c, 'get')).toBe(300);
    });
    await withStore(dataDir, (store) => {
      expect(store.journalEntries('busy')).toEqual([]);
      expect(store.readSnapshot('busy')).toMatchObject({ seq: 301, state: { count: 300 } });
      expect(store.snapshotHistory('busy')).toEqual([]);
    });
  });

  it('durable mailbox: send resolves once journaled, an ask once its state change is durable, retries are not applied twice', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      expect(await rt.send(c, 'inc', undefined, { messageId: 'm-1' })).toEqual({ messageId: 'm-1', duplicate: false });
      expect(await rt.send(c, 'inc', undefined, { messageId: 'm-1' })).toEqual({ messageId: 'm-1', duplicate: true });
      expect(await rt.ask(c, 'add', 10)).toBe(11);
      expect(await rt.ask(c, 'ids')).toEqual(['m-1']); // handlers see the message id
    });
    await withStore(dataDir, (store) => expect(store.readSnapshot('c')?.state).toMatchObject({ count: 11 }));
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      expect(await rt.send(c, 'inc', undefined, { messageId: 'm-1' })).toMatchObject({ duplicate: true }); // remembered across restarts
      expect(await rt.ask(c, 'get')).toBe(11);
    });
  });

  it('durable mailbox: the dedup window and the snapshots kept are set per definition, and hold across restarts', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(forgetful, { id: 'f' });
      const send = (id: string) => rt.send(c, 'inc', undefined, { messageId: id });
      for (const id of ['m-1', 'm-2', 'm-3']) expect(await send(id)).toMatchObject({ duplicate: false });
      expect(await send('m-3')).toMatchObject({ duplicate: true });
      expect(await send('m-2')).toMatchObject({ duplicate: true });
      expect(await rt.ask(c, 'get')).toBe(3);
    });
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(forgetful, { id: 'f' });
      const send = (id: string) => rt.send(c, 'inc', undefined, { messageId: id });
      expect(await send('m-2')).toMatchObject({ duplicate: true }); // remembered across the restart
      // m-1 fell out of the 2-id window: a retry of it is taken as a new message.
      expect(await send('m-1')).toMatchObject({ duplicate: false });
      expect(await rt.ask(c, 'get')).toBe(4);
    });
    await withStore(dataDir, (store) => {
      expect(store.rememberedIds('f').map((r) => r.id)).toEqual(['m-3', 'm-1']);
      const history = store.snapshotHistory('f');
      expect(history.length).toBeGreaterThan(0);
      expect(history.length).toBeLessThanOrEqual(3);
      expect(history.at(-1)?.state).toEqual({ count: 4 });
    });
    // The definition now keeps no history: what the old one kept is dropped when the actor starts.
    await session(dataDir, workers, async (rt) => {
      expect(await rt.ask(await rt.spawn(forgetfulLean, { id: 'f' }), 'get')).toBe(4);
    });
    await withStore(dataDir, (store) => expect(store.snapshotHistory('f')).toEqual([]));
  });

  it('durable mailbox: journaled messages queued when the circuit opens are kept and handled after it closes', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const tree = await rt.supervise({
        id: 'sup', strategy: 'one-for-one', intensity: { maxRestarts: 0, withinMs: 60_000 }, onExhausted: 'open-circuit',
        circuit: { resetMs: 50 }, children: [{ id: 'f', actor: fragileLog }],
      });
      const f = tree.ref<typeof fragileLog>('f')!;
      // Both journaled and acknowledged in one commit; 'boom' opens the circuit with 'A' still queued.
      await Promise.all([rt.send(f, 'boom', undefined, { messageId: 'x' }), rt.send(f, 'add', 'A', { messageId: 'A' })]);
      // After the reset time the kept 'A' is the trial; once it succeeds the circuit closes and new mail flows.
      await eventually(async () => (await rt.send(f, 'add', 'C', { messageId: 'C' }).catch(() => undefined)) !== undefined);
      await eventually(async () => (await rt.ask(f, 'get').catch((): string[] => [])).includes('C'));
      expect(await rt.ask(f, 'get')).toEqual(['A', 'C']);
    });
    await session(dataDir, workers, async (rt) => {
      const f = await rt.spawn(fragileLog, { id: 'f' });
      expect(await rt.ask(f, 'get')).toEqual(['A', 'C']); // nothing lost, nothing replayed
    });
  });

  it('durable mailbox: a message of an unknown type is consumed once, not replayed at every start', async () => {
    const dataDir = tempDir();
    for (let run = 1; run <= 2; run++) {
      await session(dataDir, workers, async (rt) => {
        const c = await rt.spawn(durableCounter, { id: 'c' });
        const unknownTypes = async () => (await rt.stats()).deadLetters['unknown-message-type'] ?? 0;
        if (run === 1) {
          // Nothing handled after it: its own consumption must be recorded (no later snapshot covers it).
          rt.tell(c as never, 'nope' as never, undefined as never);
          await eventually(async () => (await unknownTypes()) === 1);
        } else {
          expect(await rt.ask(c, 'get')).toBe(0); // answered after the journal's replay
          expect(await unknownTypes()).toBe(0);
        }
      });
    }
  });

  it('durable mailbox: a payload or state msgpack cannot encode is a named error and nothing is lost', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(fragileLog, { id: 'f' });
      await rt.send(c, 'add', 'A');
      await expect(rt.send(c, 'add', (2n ** 70n) as never)).rejects.toMatchObject({ code: 'ERR_UNENCODABLE_VALUE' });
      await rt.send(c, 'add', 'B');
      expect(await rt.ask(c, 'get')).toEqual(['A', 'B']);
    });
  });

  it('durable mailbox: bounded or priority mailboxes are refused (the journal is the mailbox)', async () => {
    const { defineActor } = await import('../../actors/define.ts');
    expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { durableMailbox: true }, mailbox: { kind: 'bounded', capacity: 1 } }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_DEFINITION' }));
    expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { durableMailbox: true }, mailbox: { kind: 'priority', priorities: {} } }))
      .toThrow(/FIFO and unbounded/);
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      await expect(rt.spawn(durableCounter, { id: 'c', mailbox: { kind: 'bounded', capacity: 2 } })).rejects.toMatchObject({ code: 'ERR_INVALID_SPAWN_OPTION' });
      expect(await rt.ask(await rt.spawn(durableCounter, { id: 'c' }), 'get')).toBe(0); // the runtime carries on
    });
  });

  it('durable mailbox: a message that crashes its handler is consumed, the state stays, nothing is redelivered', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      await rt.send(c, 'inc');
      await expect(rt.ask(c, 'boom')).rejects.toBeInstanceOf(ActorCrashedError);
      expect(await rt.ask(c, 'get')).toBe(1);
    });
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      expect(await rt.ask(c, 'get')).toBe(1);
    });
    await withStore(dataDir, (store) => expect(store.journalEntries('c')).toEqual([]));
  });

  it('a messageId that cannot be stored is a named error where it is sent, and nothing is journaled', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      for (const messageId of ['', 'a\0b', 'x'.repeat(901), 42 as unknown as string]) {
        expect(() => rt.send(c, 'inc', undefined, { messageId })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE_ID' }));
      }
      expect(await rt.send(c, 'inc', undefined, { messageId: 'é'.repeat(450) })).toMatchObject({ duplicate: false }); // 900 bytes
      expect(await rt.ask(c, 'get')).toBe(1);
    });
  });

  it('durable mailbox: an ask whose actor stops while it is being journaled is told at once, and handled at the next start', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      const asked = rt.ask(c, 'inc', undefined, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      rt.stop(c); // overtakes the journal write (a commit, an fsync away)
      const err = (await asked) as { code?: string; message?: string };
      expect(err.code).toBe('ERR_ACTOR_STOPPED'); // not an AskTimeoutError 30 s later
      expect(err.message).toMatch(/journaled/);
    });
    await session(dataDir, workers, async (rt) => {
      expect(await rt.ask(await rt.spawn(durableCounter, { id: 'c' }), 'get')).toBe(1);
    });
  });

  it('durable mailbox: acknowledged messages still queued when the actor stops are handled when it starts again', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      const slow = rt.ask(c, 'slowInc', 200).catch((e: unknown) => e);
      const acks = await Promise.all(Array.from({ length: 20 }, () => rt.send(c, 'inc')));
      expect(acks).toHaveLength(20);
      await rt.stop(c); // the slow handler (if it started) finishes; the acknowledged incs are still queued
      // Either the slow inc ran (and answered) or the stop overtook it; journaled, it is not lost either way.
      const outcome = await slow;
      expect(outcome === 1 || (outcome as { code?: string }).code === 'ERR_ACTOR_STOPPED').toBe(true);
    });
    await withStore(dataDir, (store) => expect(store.journalEntries('c').length).toBeGreaterThanOrEqual(20));
    await session(dataDir, workers, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      expect(await rt.ask(c, 'get')).toBe(21); // journal first, in order, before this ask
    });
  });

  it('durable mailbox: messages replayed at the next start continue the trace they were sent in', async () => {
    const dataDir = tempDir();
    const traceIds = ['4bf92f3577b34da6a3ce929d0e0e4736', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331b7ad6b7169203331'];
    await session(dataDir, workers, async (rt) => {
      const t = await rt.spawn(tracedJournal, { id: 't' });
      const held = rt.ask(t, 'hold', 300).catch(() => undefined);
      for (const id of traceIds) await rt.send(t, 'note', undefined, { traceparent: `00-${id}-00f067aa0ba902b7-01` });
      await rt.send(t, 'note'); // untraced: its replay starts a trace of its own
      await rt.stop(t);
      await held;
    });
    await withStore(dataDir, (store) => expect(store.journalEntries('t').filter((e) => e.type === 'note')).toHaveLength(4));
    await session(dataDir, workers, async (rt) => {
      const traces = await rt.ask(await rt.spawn(tracedJournal, { id: 't' }), 'traces');
      expect(traces.slice(0, 3)).toEqual(traceIds); // the head (the replay probe's) and the rest
      expect(traces).toHaveLength(4);
      expect(traceIds).not.toContain(traces[3]);
      expect(traces[3]).toMatch(/^[0-9a-f]{32}$/);
    });
  });

  it('a snapshot written on one thread is read on another', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const first = await rt.spawn(notebook, { id: 'traveller', pin: workers === 0 ? 0 : 1 });
      await rt.ask(first, 'write', 'from here');
      await rt.stop(first);
      const second = await rt.spawn(notebook, { id: 'traveller', pin: workers === 0 ? 0 : 2 });
      expect(second.node).toBe(workers === 0 ? 0 : 2);
      expect((await rt.ask(second, 'read')).notes).toEqual(['from here']);
    });
  });

  it('a supervised persistent actor restarts from its last snapshot, not from init', async () => {
    const dataDir = tempDir();
    await session(dataDir, workers, async (rt) => {
      const sup = await rt.supervise({ id: 'root', children: [{ id: 'book', actor: notebook }] });
      const book = sup.ref<typeof notebook>('book')!;
      await rt.ask(book, 'write', 'kept');
      await rt.ask(book, 'fail').catch(() => undefined);
      await eventually(() => sup.children()[0].restarts === 1);
      expect((await rt.ask(book, 'read')).notes).toEqual(['kept']);
    });
  });

  it('a whole tree resumes with its state when started again on the same data directory', async () => {
    const dataDir = tempDir();
    const tree = { id: 'agents', children: [{ id: 'a1', actor: durableCounter }, { id: 'a2', actor: durableCounter }, { id: 'log', actor: notebook }] };
    await session(dataDir, workers, async (rt) => {
      const sup = await rt.supervise(tree);
      await rt.ask(sup.ref<typeof durableCounter>('a1')!, 'add', 5);
      await rt.ask(sup.ref<typeof durableCounter>('a2')!, 'add', 7);
      await rt.ask(sup.ref<typeof notebook>('log')!, 'write', 'hello');
    });
    await session(dataDir, workers, async (rt) => {
      const sup = await rt.supervise(tree);
      expect(await rt.ask(sup.ref<typeof durableCounter>('a1')!, 'get')).toBe(5);
      expect(await rt.ask(sup.ref<typeof durableCounter>('a2')!, 'get')).toBe(7);
      expect((await rt.ask(sup.ref<typeof notebook>('log')!, 'read')).notes).toEqual(['hello']);
    });
  });
});

describe('snapshot versions and bad data', () => {
  async function plant(dataDir: string, id: string, snapshot: { version: number; seq: number; state: unknown }): Promise<void> {
    await withStore(dataDir, (store) => store.writeSnapshot(id, { ...snapshot, at: 0 }));
  }

  it('migrates an old snapshot to the current version on restore', async () => {
    const dataDir = tempDir();
    await plant(dataDir, 'old', { version: 1, seq: 3, state: { lines: ['a', 'b'] } });
    await session(dataDir, 0, async (rt) => {
      const n = await rt.spawn(notebook, { id: 'old' });
      expect(await rt.ask(n, 'read')).toEqual({ notes: ['a', 'b'], title: 'untitled' });
    });
  });

  it('a missing migration or a newer version fails the start with a named error and leaves the data alone', async () => {
    const dataDir = tempDir();
    await plant(dataDir, 'ancient', { version: 0, seq: 1, state: { x: 1 } });
    await plant(dataDir, 'future', { version: 9, seq: 1, state: { x: 1 } });
    await session(dataDir, 2, async (rt) => {
      await expect(rt.spawn(notebook, { id: 'ancient' })).rejects.toMatchObject({ code: 'ERR_MISSING_MIGRATION' });
      await expect(rt.spawn(notebook, { id: 'future' })).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_VERSION' });
      expect(await rt.lookup('ancient')).toBeUndefined();
      // A supervisor sees the failed start.
      await expect(rt.supervise({ id: 'root', children: [{ id: 'ancient', actor: notebook }] })).rejects.toMatchObject({ code: 'ERR_MISSING_MIGRATION' });
    });
    await withStore(dataDir, (store) => expect(store.readSnapshot('ancient')).toMatchObject({ version: 0, state: { x: 1 } }));
  });

  it('a corrupt snapshot fails the start (data untouched), unless the definition opts into starting afresh', async () => {
    const dataDir = tempDir();
    await plant(dataDir, 'broken', { version: 2, seq: 1, state: {} });
    await plant(dataDir, 'fresh', { version: 2, seq: 1, state: {} });
    const env = open({ path: dataDir, ...ENV_OPTIONS });
    const raw = env.openDB('snapshots', { encoding: 'binary' });
    const garbage = Buffer.from([0xc1, 0xc1, 0xff, 0x00]);
    await raw.put('broken', garbage);
    await raw.put('fresh', garbage);
    await raw.flushed;
    await env.close();
    await session(dataDir, 0, async (rt) => {
      await expect(rt.spawn(notebook, { id: 'broken' })).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_DECODE' });
      const f = await rt.spawn(forgiving, { id: 'fresh' });
      expect(await rt.ask(f, 'read')).toEqual({ notes: [], title: 'fresh' });
    });
    const env2 = open({ path: dataDir, ...ENV_OPTIONS });
    expect(Buffer.from(env2.openDB('snapshots', { encoding: 'binary' }).get('broken') as Buffer)).toEqual(garbage);
    await env2.close();
  });

  it('cadence: snapshots every N messages, and what is pending is written when the actor stops', async () => {
    const dataDir = tempDir();
    await session(dataDir, 0, async (rt) => {
      const s = await rt.spawn(sparse, { id: 's' });
      for (let i = 0; i < 4; i++) rt.tell(s, 'bump');
      expect(await rt.ask(s, 'get')).toBe(4);
    });
    await withStore(dataDir, (store) => expect(store.readSnapshot('s')).toMatchObject({ seq: 5, state: { n: 4 } }));
  });

  it('durable mailbox with snapshot: { everyMessages: 5 }: one snapshot per 5 handled sends, the rest journaled, all of it back after a restart', async () => {
    const dataDir = tempDir();
    const snapshotsFor = async (def: typeof durableCounter, id: string) =>
      session(dataDir, 0, async (rt) => {
        const c = await rt.spawn(def, { id });
        const before = (await rt.metricsSnapshot()).threads[0]!.snapshot.count;
        for (let i = 0; i < 12; i++) await rt.send(c, 'inc'); // each send its own commit: handled, then the next
        // every message: wait for the last lazy snapshot (the journal then holds nothing a snapshot does not cover)
        if (def === durableCounter) await eventually(async () => (await uncovered(id)) === 0);
        return (await rt.metricsSnapshot()).threads[0]!.snapshot.count - before;
      });
    const uncovered = (id: string) => withStore(dataDir, (store) => store.journalEntries(id, store.readSnapshot(id)?.seq ?? 0).length);
    const every = await snapshotsFor(durableCounter, 'each');
    const cadence = await snapshotsFor(cadenceCounter, 'five');
    expect(every).toBeGreaterThanOrEqual(6); // lazy snapshots ride the next commit: about one per send
    expect(cadence).toBeLessThanOrEqual(3); // after the 5th and the 10th (a lazy one may ride a little later)
    await withStore(dataDir, (store) => {
      // shutdown wrote what was handled; a send not handled yet waits in the journal
      const snap = store.readSnapshot('five') as { seq: number; state: { count: number } };
      expect(snap.state.count + store.journalEntries('five', snap.seq).length).toBe(12);
    });
    await session(dataDir, 0, async (rt) => expect(await rt.ask(await rt.spawn(cadenceCounter, { id: 'five' }), 'get')).toBe(12));
  });

  it('bad input: persistent actors need a data directory; bad persistence options are named errors', async () => {
    const rt = await startRuntime({ workers: 0 });
    await expect(rt.spawn(notebook, { id: 'n' })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    const { defineActor } = await import('../../actors/define.ts');
    expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { snapshot: { everyMessages: 0 } } })).toThrow(/everyMessages/);
    expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { durableMailbox: true, snapshot: { everyMs: 5 } } })).toThrow(/durable mailbox/);
    for (const bad of [0, 1.5, -3]) {
      expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { durableMailbox: true, dedupWindow: bad } })).toThrow(/dedupWindow/);
      expect(() => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence: { keepSnapshots: bad } })).toThrow(/keepSnapshots/);
    }
  });
});
