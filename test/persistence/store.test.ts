import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import {
  ActorStore,
  ENV_OPTIONS,
  InvalidPersistenceOptionError,
  InvalidStoreKeyError,
  JournalDecodeError,
  SnapshotDecodeError,
} from '../../persistence/index.ts';
import { openStore, snap } from './helpers.ts';

const msg = (id: string, payload: unknown = null) => ({ id, type: 'test', payload });

/** A second handle on the same environment (same thread), for looking under the store's API. */
function rawEnv(dir: string) {
  return open({ path: dir, ...ENV_OPTIONS });
}

describe('snapshots', () => {
  it('round-trips a snapshot', async () => {
    const { store } = openStore();
    expect(store.readSnapshot('a')).toBeUndefined();
    const s = snap(3, { n: 3, tags: ['x'], nested: { m: new Map([['k', 1]]) }, big: 10n });
    await store.writeSnapshot('a', s);
    expect(store.readSnapshot('a')).toEqual(s);
  });

  it('survives close and reopen', async () => {
    const { store, dir } = openStore();
    await store.writeSnapshot('a', snap(1, 'one'));
    await store.close();
    const { store: again } = openStore({}, dir);
    expect(again.readSnapshot('a')).toEqual(snap(1, 'one'));
  });

  it('keeps one snapshot per actor by default: 1000 writes leave 1 entry', async () => {
    const { store, dir } = openStore();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => store.writeSnapshot('a', snap(i, { i }))));
    await store.writeSnapshot('b', snap(0, 'b'));
    const env = rawEnv(dir);
    try {
      expect(env.openDB('snapshots', {}).getCount()).toBe(2);
      expect(env.openDB('snapshotHistory', {}).getCount()).toBe(0);
    } finally {
      await env.close();
    }
    expect(store.readSnapshot('a')?.state).toEqual({ i: 999 });
  });

  it('keeps the last N snapshots with keepSnapshots', async () => {
    const { store, dir } = openStore({ keepSnapshots: 3 });
    for (let turn = 0; turn < 10; turn++) {
      const seqs = Array.from({ length: 100 }, (_, i) => turn * 100 + i);
      await Promise.all(seqs.map((seq) => store.writeSnapshot('a', snap(seq, seq))));
    }
    expect(store.snapshotHistory('a').map((s) => s.seq)).toEqual([997, 998, 999]);
    expect(store.readSnapshot('a')?.seq).toBe(999);
    const env = rawEnv(dir);
    try {
      expect(env.openDB('snapshotHistory', {}).getCount()).toBe(3);
    } finally {
      await env.close();
    }
  });

  it('stores the value as it was when written, even if the caller mutates it later', async () => {
    const { store } = openStore();
    const state = { n: 1 };
    const written = store.writeSnapshot('a', snap(1, state));
    state.n = 2;
    await written;
    expect(store.readSnapshot('a')?.state).toEqual({ n: 1 });
  });

  it('rejects an unencodable snapshot without writing anything', async () => {
    const { store } = openStore();
    await store.writeSnapshot('a', snap(1, 'ok'));
    await expect(store.writeSnapshot('a', snap(2, { s: Symbol('x') }))).rejects.toThrow();
    expect(store.readSnapshot('a')?.state).toBe('ok');
  });
});

describe('corrupt snapshots', () => {
  it.each([
    ['undecodable bytes', Buffer.from([0xc1, 0xc1, 0xff, 0x00])],
    ['a truncated string', Buffer.from([0xd9, 0x50, 0x41])],
    ['bytes msgpack decodes to something else (lone 0xC1)', Buffer.from([0xc1])],
  ])('surfaces %s as SnapshotDecodeError and leaves the bytes alone', async (_, garbage) => {
    const { store, dir } = openStore();
    await store.writeSnapshot('a', snap(1, 'fine'));
    const env = rawEnv(dir);
    const raw = env.openDB('snapshots', { encoding: 'binary' });
    try {
      await raw.put('a', garbage);
      await raw.flushed;
      let error: unknown;
      try {
        store.readSnapshot('a');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SnapshotDecodeError);
      expect(error).toMatchObject({ code: 'ERR_SNAPSHOT_DECODE', name: 'SnapshotDecodeError', actorId: 'a' });
      expect(Buffer.from(raw.get('a') as Buffer)).toEqual(garbage);
      expect(store.readSnapshot('b')).toBeUndefined(); // other actors unaffected
    } finally {
      await env.close();
    }
  });

  it('treats a decodable value that is not a snapshot record as corrupt', async () => {
    const { store, dir } = openStore();
    const env = rawEnv(dir);
    try {
      await env.openDB('snapshots', {}).put('a', 42);
      expect(() => store.readSnapshot('a')).toThrow(SnapshotDecodeError);
    } finally {
      await env.close();
    }
  });
});

describe('journal', () => {
  it('assigns 1, 2, 3... per actor and lists entries in order', async () => {
    const { store } = openStore();
    const seqs = await Promise.all([
      store.appendJournal('a', msg('m1', { x: 1 })),
      store.appendJournal('ab', msg('n1')),
      store.appendJournal('a', msg('m2')),
      store.appendJournal('a', msg('m3')),
    ]);
    expect(seqs).toEqual([1, 1, 2, 3]);
    expect(store.journalEntries('a')).toEqual([
      { seq: 1, id: 'm1', type: 'test', payload: { x: 1 } },
      { seq: 2, id: 'm2', type: 'test', payload: null },
      { seq: 3, id: 'm3', type: 'test', payload: null },
    ]);
    expect(store.journalEntries('ab').map((e) => e.id)).toEqual(['n1']);
  });

  it('keeps numeric order past 9, 99, 999', async () => {
    const { store } = openStore();
    await Promise.all(Array.from({ length: 1200 }, (_, i) => store.appendJournal('a', msg(`m${i + 1}`))));
    const seqs = store.journalEntries('a').map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
  });

  it('never reuses a sequence number after the journal is emptied', async () => {
    const { store } = openStore();
    const seq = await store.appendJournal('a', msg('m1'));
    await store.commitHandled('a', { seq, snapshot: snap(seq, 1), messageId: 'm1' });
    expect(await store.appendJournal('a', msg('m2'))).toBe(2);
  });

  it('continues after a snapshot written directly', async () => {
    const { store } = openStore();
    await store.writeSnapshot('a', snap(41, 'restored'));
    expect(await store.appendJournal('a', msg('m42'))).toBe(42);
  });

  it('a snapshot ahead of every seq covers the pending entries and keeps the dedup window bounded', async () => {
    const { store } = openStore({ dedupWindow: 3 });
    for (let i = 1; i <= 3; i++) await store.appendJournal('a', msg(`m${i}`));
    await store.commitHandled('a', { seq: 1, snapshot: snap(1, 1), messageId: 'm1' });
    await store.writeSnapshot('a', snap(10, 'jumped'));
    expect(store.journalEntries('a')).toEqual([]);
    expect(['m1', 'm2', 'm3'].map((id) => store.seenMessage('a', id))).toEqual([false, false, false]);
    expect(await store.appendJournal('a', msg('m11'))).toBe(11);
    await store.commitHandled('a', { seq: 11, snapshot: snap(11, 11), messageId: 'm11' });
    expect(store.journalEntries('a')).toEqual([]);
    expect(store.seenMessage('a', 'm11')).toBe(true);
  });
});

describe('commitHandled', () => {
  it('writes the snapshot, drops the journal entry and records the message id, together', async () => {
    const { store } = openStore();
    const s1 = await store.appendJournal('a', msg('m1'));
    const s2 = await store.appendJournal('a', msg('m2'));
    await store.commitHandled('a', { seq: s1, snapshot: snap(s1, { n: 1 }), messageId: 'm1' });
    expect(store.readSnapshot('a')).toEqual(snap(1, { n: 1 }));
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([s2]);
    expect(store.seenMessage('a', 'm1')).toBe(true);
    expect(store.seenMessage('a', 'm2')).toBe(false);
    expect(store.seenMessage('b', 'm1')).toBe(false);
  });

  it('is all-or-nothing when the snapshot cannot be encoded', async () => {
    const { store } = openStore();
    const seq = await store.appendJournal('a', msg('m1'));
    const unencodable = snap(seq, Symbol('no'));
    await expect(store.commitHandled('a', { seq, snapshot: unencodable, messageId: 'm1' })).rejects.toThrow();
    expect(store.journalEntries('a')).toHaveLength(1);
    expect(store.seenMessage('a', 'm1')).toBe(false);
    expect(store.readSnapshot('a')).toBeUndefined();
  });

  it('writes nothing when a covered journal entry is corrupt; other steps in the same commit go through', async () => {
    const { store, dir } = openStore();
    await store.writeSnapshot('a', snap(0, 'before'));
    for (const id of ['m1', 'm2']) await store.appendJournal('a', msg(id));
    await store.appendJournal('b', msg('b1'));
    const env = rawEnv(dir);
    const rawJournal = env.openDB('journal', { encoding: 'binary' });
    try {
      await rawJournal.put(['a', 1], Buffer.from([0xc1]));
      const failing = store.commitHandled('a', { seq: 2, snapshot: snap(2, 'after'), messageId: 'm2' });
      const other = store.commitHandled('b', { seq: 1, snapshot: snap(1, 'b'), messageId: 'b1' });
      await expect(failing).rejects.toMatchObject({ code: 'ERR_JOURNAL_DECODE', actorId: 'a', seq: 1 });
      await other;
      expect(() => store.journalEntries('a')).toThrow(JournalDecodeError);
      expect(store.readSnapshot('a')?.state).toBe('before');
      expect(rawJournal.getKeysCount({ start: ['a', 0], end: ['a', Infinity] })).toBe(2);
      expect(store.seenMessage('a', 'm2')).toBe(false);
      expect(store.readSnapshot('b')?.state).toBe('b');
      expect(store.seenMessage('b', 'b1')).toBe(true);
    } finally {
      await env.close();
    }
  });

  it('drops earlier entries a later snapshot covers, remembering their ids', async () => {
    const { store } = openStore();
    for (let i = 1; i <= 4; i++) await store.appendJournal('a', msg(`m${i}`));
    await store.commitHandled('a', { seq: 3, snapshot: snap(3, 'after 3'), messageId: 'm3' });
    expect(store.journalEntries('a').map((e) => e.id)).toEqual(['m4']);
    expect(['m1', 'm2', 'm3', 'm4'].map((id) => store.seenMessage('a', id))).toEqual([true, true, true, false]);
  });

  it('requires snapshot.seq to equal seq', async () => {
    const { store } = openStore();
    await store.appendJournal('a', msg('m1'));
    await expect(store.commitHandled('a', { seq: 1, snapshot: snap(2, 'x'), messageId: 'm1' })).rejects.toThrow(
      InvalidStoreKeyError,
    );
  });

  it('works when append and commit are issued in the same turn', async () => {
    const { store } = openStore();
    const appended = store.appendJournal('a', msg('m1'));
    const committed = store.commitHandled('a', { seq: 1, snapshot: snap(1, 'x'), messageId: 'm1' });
    await Promise.all([appended, committed]);
    expect(store.journalEntries('a')).toEqual([]);
    expect(store.seenMessage('a', 'm1')).toBe(true);
  });
});

describe('dedup window', () => {
  it('remembers only the message ids of the last K sequence numbers', async () => {
    const K = 8;
    const { store, dir } = openStore({ dedupWindow: K });
    const total = 30;
    for (let i = 1; i <= total; i++) {
      const seq = store.appendJournal('a', msg(`m${i}`));
      // Half the commits share a turn with their append, half do not.
      if (i % 2) await seq;
      await store.commitHandled('a', { seq: i, snapshot: snap(i, i), messageId: `m${i}` });
    }
    await store.appendJournal('b', msg('other'));
    await store.commitHandled('b', { seq: 1, snapshot: snap(1, 1), messageId: 'other' });
    const seen = Array.from({ length: total }, (_, i) => store.seenMessage('a', `m${i + 1}`));
    expect(seen.filter(Boolean)).toHaveLength(K);
    expect(seen.slice(total - K).every(Boolean)).toBe(true);
    expect(store.seenMessage('b', 'other')).toBe(true);
    const env = rawEnv(dir);
    try {
      expect(env.openDB('dedup', {}).getCount()).toBe(K + 1);
      expect(env.openDB('dedupOrder', {}).getCount()).toBe(K + 1);
    } finally {
      await env.close();
    }
  });

  it('defaults to 1024', async () => {
    const { store } = openStore();
    const n = 1030;
    await Promise.all(Array.from({ length: n }, (_, i) => store.appendJournal('a', msg(`m${i + 1}`))));
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.commitHandled('a', { seq: i + 1, snapshot: snap(i + 1, i), messageId: `m${i + 1}` }),
      ),
    );
    const seen = Array.from({ length: n }, (_, i) => store.seenMessage('a', `m${i + 1}`));
    expect(seen.filter(Boolean)).toHaveLength(1024);
    expect(seen.indexOf(true)).toBe(n - 1024);
  });
});

describe('deleteActor', () => {
  it('removes snapshot, history, journal and dedup of that actor only', async () => {
    const { store, dir } = openStore({ keepSnapshots: 2 });
    for (const actor of ['a', 'ab', 'a-b']) {
      await store.appendJournal(actor, msg('m1'));
      await store.appendJournal(actor, msg('m2'));
      await store.commitHandled(actor, { seq: 1, snapshot: snap(1, actor), messageId: 'm1' });
    }
    await store.deleteActor('a');
    expect(store.readSnapshot('a')).toBeUndefined();
    expect(store.snapshotHistory('a')).toEqual([]);
    expect(store.journalEntries('a')).toEqual([]);
    expect(store.seenMessage('a', 'm1')).toBe(false);
    for (const actor of ['ab', 'a-b']) {
      expect(store.readSnapshot(actor)?.state).toBe(actor);
      expect(store.journalEntries(actor)).toHaveLength(1);
      expect(store.seenMessage(actor, 'm1')).toBe(true);
    }
    expect(await store.appendJournal('a', msg('fresh'))).toBe(1);
    const env = rawEnv(dir);
    try {
      expect(env.openDB('counters', {}).getCount()).toBe(3);
    } finally {
      await env.close();
    }
  });
});

describe('group commit', () => {
  it('puts many writes issued in one turn into one or two commits, not one each', async () => {
    const { store } = openStore();
    await store.writeSnapshot('warm', snap(0, null));
    const before = store.commitCount;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      writes.push(store.appendJournal(`actor${i % 10}`, msg(`m${i}`)));
      writes.push(store.writeSnapshot(`actor${i % 10}`, snap(i, i)));
    }
    await Promise.all(writes);
    // lmdb-js may start the first commit as soon as the first write is queued; the rest of the turn joins the next.
    expect(store.commitCount - before).toBeGreaterThanOrEqual(1);
    expect(store.commitCount - before).toBeLessThanOrEqual(2);
  });
});

describe('validation', () => {
  it('rejects bad options with a named error', () => {
    for (const bad of [{ dedupWindow: 0 }, { dedupWindow: 1.5 }, { keepSnapshots: -1 }]) {
      expect(() => ActorStore.open('/nonexistent/never-created', bad)).toThrow(InvalidPersistenceOptionError);
    }
  });

  it('rejects key parts that would break ordered keys', async () => {
    const { store } = openStore();
    expect(() => store.seenMessage('a\0b', 'm')).toThrow(InvalidStoreKeyError);
    expect(() => store.readSnapshot('')).toThrow(InvalidStoreKeyError);
    await expect(store.appendJournal('a', msg('x'.repeat(2000)))).rejects.toThrow(InvalidStoreKeyError);
    await expect(store.commitHandled('a', { seq: 0, snapshot: snap(0, 0), messageId: 'm' })).rejects.toMatchObject({
      code: 'ERR_INVALID_STORE_KEY',
    });
  });
});
