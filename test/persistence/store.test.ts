import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import {
  ActorStore,
  ENV_OPTIONS,
  InvalidPersistenceOptionError,
  InvalidStoreKeyError,
  JournalDecodeError,
  type JournalMessage,
  SnapshotDecodeError,
  UnencodableValueError,
} from '../../persistence/index.ts';
import { openStore, snap } from './helpers.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { frameSegment, unframeSegment } from '../../persistence/segment.ts';

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

  it('trims history past a lowered keep, and only that actor\'s', async () => {
    const { store } = openStore({ keepSnapshots: 4 });
    for (const id of ['a', 'ab']) for (let seq = 1; seq <= 6; seq++) await store.writeSnapshot(id, snap(seq, seq));
    expect(store.trimHistory('a', 4)).toBeUndefined(); // nothing past it: no write at all
    await store.trimHistory('a', 2);
    expect(store.snapshotHistory('a').map((s) => s.seq)).toEqual([5, 6]);
    await store.trimHistory('a', 1); // keep 1 = the latest snapshot only, no history
    expect(store.snapshotHistory('a')).toEqual([]);
    expect(store.readSnapshot('a')?.seq).toBe(6);
    expect(store.snapshotHistory('ab').map((s) => s.seq)).toEqual([3, 4, 5, 6]);
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
    await expect(store.writeSnapshot('a', snap(2, { s: Symbol('x') }))).rejects.toThrow(UnencodableValueError);
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

/** Journal one message; resolves once durable. */
function append(store: ActorStore, actor: string, seq: number, m: JournalMessage, remember = false): Promise<void> {
  return store.appendJournal(actor, seq, m, remember).done;
}

describe('journal', () => {
  it('lists entries per actor in seq order, after a given seq', async () => {
    const { store } = openStore();
    await Promise.all([
      append(store, 'a', 1, msg('m1', { x: 1 })),
      append(store, 'ab', 1, msg('n1')),
      append(store, 'a', 2, msg('m2')),
      append(store, 'a', 3, msg('m3')),
    ]);
    expect(store.journalEntries('a')).toEqual([
      { seq: 1, id: 'm1', type: 'test', payload: { x: 1 } },
      { seq: 2, id: 'm2', type: 'test', payload: null },
      { seq: 3, id: 'm3', type: 'test', payload: null },
    ]);
    expect(store.journalEntries('a', 1).map((e) => e.seq)).toEqual([2, 3]);
    expect(store.journalEntries('ab').map((e) => e.id)).toEqual(['n1']);
  });

  it('stores the messages one actor journals in one commit as one segment, keyed by the first seq', async () => {
    const { store } = openStore();
    const first = [1, 2, 3].map((seq) => store.appendJournal('a', seq, msg(`m${seq}`)));
    expect(first.map((x) => x.segment)).toEqual([1, 1, 1]);
    expect(new Set(first.map((x) => x.batch)).size).toBe(1);
    await first[0].done;
    const second = store.appendJournal('a', 4, msg('m4'));
    expect(second.segment).toBe(4);
    expect(second.batch).toBeGreaterThan(first[0].batch);
    await second.done;
    expect(store.journalSegments('a').map(({ first, last }) => [first, last])).toEqual([[1, 3], [4, 4]]);
  });

  it('keeps numeric order past 9, 99, 999', async () => {
    const { store } = openStore();
    for (let i = 0; i < 1200; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => append(store, 'a', i + k + 1, msg(`m${i + k + 1}`))));
    }
    const seqs = store.journalEntries('a').map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
  });

  it('starts a new segment when one grows past its size limit', async () => {
    const { store } = openStore();
    const big = 'x'.repeat(300_000);
    const appended = [1, 2, 3, 4, 5].map((seq) => store.appendJournal('a', seq, msg(`m${seq}`, big)));
    await appended[0].done;
    expect(appended.map((x) => x.segment)).toEqual([1, 1, 1, 4, 4]);
    expect(store.journalEntries('a').map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores the message as it was when appended, even if the caller mutates it later', async () => {
    const { store } = openStore();
    const payload = { n: 1 };
    const written = append(store, 'a', 1, msg('m1', payload));
    payload.n = 2;
    await written;
    expect(store.journalEntries('a')[0].payload).toEqual({ n: 1 });
  });

  it('throws on an unencodable payload without queuing anything', async () => {
    const { store } = openStore();
    expect(() => store.appendJournal('a', 1, msg('m1', { s: Symbol('x') }), true)).toThrow(UnencodableValueError);
    await append(store, 'a', 1, msg('m1-retry'));
    expect(store.journalEntries('a').map((e) => e.id)).toEqual(['m1-retry']);
    expect(store.seenMessage('a', 'm1')).toBe(false);
  });

  it('surfaces an undecodable segment as JournalDecodeError and leaves it alone', async () => {
    const { store, dir } = openStore();
    await append(store, 'a', 1, msg('m1'));
    const env = rawEnv(dir);
    try {
      const raw = env.openDB('journal', { encoding: 'binary' });
      for (const garbage of [Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x01]), Buffer.from([0x01, 0, 0, 0, 0xc1])]) {
        await raw.put(['a', 1], garbage);
        await raw.flushed;
        expect(() => store.journalEntries('a')).toThrow(JournalDecodeError);
        expect(Buffer.from(raw.get(['a', 1]) as Buffer)).toEqual(garbage);
      }
    } finally {
      await env.close();
    }
  });

  it('keeps a message\'s traceparent with it; entries without one (4-tuples, as before) and a bad one read back without', async () => {
    const { store, dir } = openStore();
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await append(store, 'a', 1, { ...msg('m1'), trace: tp });
    await append(store, 'a', 2, { ...msg('m2'), trace: '' });
    const env = rawEnv(dir);
    try {
      const encoder = (env.openDB('snapshots', {}) as unknown as { encoder: { encode(v: unknown): Uint8Array } }).encoder;
      const raw = env.openDB('journal', { encoding: 'binary' });
      expect(unframeSegment(raw.get(['a', 2]) as Uint8Array).map((b) => (encoder as unknown as { decode(b: Uint8Array): unknown[] }).decode(b).length)).toEqual([4]);
      await raw.put(['a', 3], frameSegment([Buffer.from(encoder.encode([3, 'm3', 'test', null, 42]))]));
      await env.flushed;
      expect(store.journalEntries('a')).toEqual([
        { seq: 1, id: 'm1', type: 'test', payload: null, trace: tp },
        { seq: 2, id: 'm2', type: 'test', payload: null },
        { seq: 3, id: 'm3', type: 'test', payload: null },
      ]);
    } finally {
      await env.close();
    }
  });

  it('still reads segments written as {seq, id, type, payload} records (the format before tuples)', async () => {
    const { store, dir } = openStore();
    await append(store, 'a', 1, msg('m1', { n: 1 }));
    const env = rawEnv(dir);
    try {
      const encoder = (env.openDB('snapshots', {}) as unknown as { encoder: { encode(v: unknown): Uint8Array } }).encoder;
      const old = (seq: number, id: string) => Buffer.from(encoder.encode({ seq, id, type: 'test', payload: { n: seq } }));
      const parts = [old(2, 'm2'), old(3, 'm3')];
      await env.openDB('journal', { encoding: 'binary' }).put(['a', 2], frameSegment(parts));
      await env.flushed;
      expect(store.journalEntries('a')).toEqual([
        { seq: 1, id: 'm1', type: 'test', payload: { n: 1 } },
        { seq: 2, id: 'm2', type: 'test', payload: { n: 2 } },
        { seq: 3, id: 'm3', type: 'test', payload: { n: 3 } },
      ]);
    } finally {
      await env.close();
    }
  });
});

describe('the exactly-once step: a snapshot that removes the segments it covers', () => {
  it('writes the snapshot and removes the given segments, in one commit', async () => {
    const { store } = openStore();
    await Promise.all([1, 2].map((seq) => append(store, 'a', seq, msg(`m${seq}`), true)));
    await Promise.all([3, 4].map((seq) => append(store, 'a', seq, msg(`m${seq}`), true)));
    const before = store.commitCount;
    await store.writeSnapshot('a', snap(2, 'after 2'), { removeSegments: [1] });
    expect(store.commitCount - before).toBe(1);
    expect(store.readSnapshot('a')?.state).toBe('after 2');
    expect(store.journalEntries('a').map((e) => e.id)).toEqual(['m3', 'm4']);
    // Remembered ids outlive the journal entries: a retry of a handled message is still recognised.
    expect(['m1', 'm2', 'm3', 'm4'].map((id) => store.seenMessage('a', id))).toEqual([true, true, true, true]);
    expect(store.seenMessage('b', 'm1')).toBe(false);
  });

  it('is all-or-nothing when the snapshot cannot be encoded', async () => {
    const { store } = openStore();
    await append(store, 'a', 1, msg('m1'));
    await expect(store.writeSnapshot('a', snap(1, { s: Symbol('x') }), { removeSegments: [1] })).rejects.toThrow();
    await store.settled();
    expect(store.journalEntries('a')).toHaveLength(1);
    expect(store.readSnapshot('a')).toBeUndefined();
  });

  it('a remove or delete issued between two appends of one commit never covers the later append', async () => {
    const { store } = openStore();
    store.appendJournal('a', 1, msg('m1'));
    const deleted = store.deleteActor('a');
    const second = store.appendJournal('a', 2, msg('m2'));
    expect(second.segment).toBe(2); // a new segment, written after the delete
    store.appendJournal('b', 1, msg('n1'));
    const snapshot = store.writeSnapshot('b', snap(1, 'b'), { removeSegments: [1] });
    const b2 = store.appendJournal('b', 2, msg('n2'));
    await Promise.all([deleted, second.done, snapshot, b2.done]);
    expect(store.journalEntries('a').map((e) => e.id)).toEqual(['m2']);
    expect(store.journalEntries('b').map((e) => e.id)).toEqual(['n2']);
  });

  it('a snapshot that removes nothing leaves the journal as it is', async () => {
    const { store } = openStore();
    await append(store, 'a', 1, msg('m1'));
    await store.writeSnapshot('a', snap(5, 'x'));
    expect(store.journalEntries('a')).toHaveLength(1);
    expect(store.journalEntries('a', 5)).toEqual([]);
  });

  it('removes only that actor\'s segment when actor ids share a prefix', async () => {
    const { store } = openStore();
    await Promise.all([append(store, 'a', 1, msg('x')), append(store, 'ab', 1, msg('y'))]);
    await store.writeSnapshot('a', snap(1, 'x'), { removeSegments: [1] });
    expect(store.journalEntries('a')).toEqual([]);
    expect(store.journalEntries('ab')).toHaveLength(1);
  });
});

describe('remembered message ids', () => {
  it('are listed oldest first and forgotten on request', async () => {
    const { store } = openStore();
    // ids chosen so that key order differs from seq order
    for (const [seq, id] of [[1, 'zz'], [2, 'aa'], [3, 'mm']] as const) await append(store, 'a', seq, msg(id), true);
    await append(store, 'a', 4, msg('not-remembered'));
    expect(store.rememberedIds('a')).toEqual([{ id: 'zz', seq: 1 }, { id: 'aa', seq: 2 }, { id: 'mm', seq: 3 }]);
    await store.forgetMessage('a', 'aa');
    expect(store.rememberedIds('a').map((r) => r.id)).toEqual(['zz', 'mm']);
    expect(store.seenMessage('a', 'not-remembered')).toBe(false);
    expect(store.rememberedIds('ab')).toEqual([]);
  });
});

describe('deleteActor', () => {
  it('removes snapshot, history, journal and remembered ids of that actor only', async () => {
    const { store } = openStore({ keepSnapshots: 2 });
    for (const actor of ['a', 'ab', 'a-b']) {
      await append(store, actor, 1, msg('m1'), true);
      await append(store, actor, 2, msg('m2'), true);
      await store.writeSnapshot(actor, snap(1, actor), { removeSegments: [1] });
    }
    await store.deleteActor('a');
    expect(store.readSnapshot('a')).toBeUndefined();
    expect(store.snapshotHistory('a')).toEqual([]);
    expect(store.journalEntries('a')).toEqual([]);
    expect(store.rememberedIds('a')).toEqual([]);
    for (const actor of ['ab', 'a-b']) {
      expect(store.readSnapshot(actor)?.state).toBe(actor);
      expect(store.snapshotHistory(actor)).toHaveLength(1);
      expect(store.journalEntries(actor)).toHaveLength(1);
      expect(store.rememberedIds(actor)).toHaveLength(2);
    }
  });
});

describe('group commit', () => {
  it('puts many writes issued in one turn into one commit, sharing one promise', async () => {
    const { store } = openStore();
    await store.writeSnapshot('warm', snap(0, null));
    const before = store.commitCount;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      writes.push(append(store, `actor${i % 10}`, i + 1, msg(`m${i}`), true));
      writes.push(store.writeSnapshot(`actor${i % 10}`, snap(i + 1, i)));
    }
    await Promise.all(writes);
    expect(store.commitCount - before).toBe(1);
    expect(new Set(writes).size).toBe(1);
  });

  it('says once per batch that its commit is about to start (the scheduler yields to it once)', async () => {
    const { store } = openStore();
    expect(store.commitAboutToStart()).toBe(false); // nothing gathering
    const first = store.writeSnapshot('a', snap(1, 1));
    expect(store.commitAboutToStart()).toBe(true);
    expect(store.commitAboutToStart()).toBe(false);
    await first;
    expect(store.commitAboutToStart()).toBe(false);
    const second = store.writeSnapshot('a', snap(2, 2));
    expect(store.commitAboutToStart()).toBe(true);
    await second;
  });

  it('lets a write that need not be committed alone ride along with the next commit', async () => {
    const { store } = openStore();
    await store.writeSnapshot('warm', snap(0, null)); // a fresh environment's first commit also creates its tables
    let rode = 0;
    store.joinNextBatch(() => {
      rode++;
      void store.writeSnapshot('rider', snap(1, 'rode'));
    }, 60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(rode).toBe(0); // nothing was committed meanwhile, and its deadline is far
    const before = store.commitCount;
    await append(store, 'a', 1, msg('m1'));
    expect(rode).toBe(1);
    expect(store.commitCount - before).toBe(1);
    expect(store.readSnapshot('rider')?.state).toBe('rode');
  });

  it('riders waiting for a commit go on their own at their deadline, all on one timer of the injected clock', async () => {
    const clock = new ManualClock();
    const { store } = openStore({ timers: clock });
    await store.writeSnapshot('warm', snap(0, null));
    const rode: string[] = [];
    for (const id of ['r1', 'r2', 'r3']) store.joinNextBatch(() => rode.push(id), 5);
    clock.advance(4);
    expect(rode).toEqual([]);
    clock.advance(1);
    expect(rode).toEqual(['r1', 'r2', 'r3']);
    clock.advance(100);
    expect(rode).toHaveLength(3); // once
  });

  it('settled() waits for every write issued so far', async () => {
    const { store, dir } = openStore();
    void append(store, 'a', 1, msg('m1'));
    await store.settled();
    const env = rawEnv(dir);
    try {
      expect(env.openDB('journal', { encoding: 'binary' }).get(['a', 1])).toBeDefined();
    } finally {
      await env.close();
    }
  });
});

describe('validation', () => {
  it('rejects bad options with a named error', async () => {
    for (const bad of [{ keepSnapshots: 0 }, { keepSnapshots: 1.5 }, { keepSnapshots: -1 }]) {
      expect(() => ActorStore.open('/nonexistent/never-created', bad)).toThrow(InvalidPersistenceOptionError);
    }
    const { store } = openStore();
    await expect(store.writeSnapshot('a', snap(1, 1), { keep: 0 })).rejects.toThrow(InvalidPersistenceOptionError);
  });

  it('rejects key parts and seqs that would break ordered keys', async () => {
    const { store } = openStore();
    expect(() => store.seenMessage('a\0b', 'm')).toThrow(InvalidStoreKeyError);
    expect(() => store.readSnapshot('')).toThrow(InvalidStoreKeyError);
    expect(() => store.appendJournal('a', 1, msg('x'.repeat(2000)))).toThrow(InvalidStoreKeyError);
    expect(() => store.appendJournal('a', 0, msg('m'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STORE_KEY' }));
    await expect(store.writeSnapshot('a', snap(1, 1), { removeSegments: [0] })).rejects.toMatchObject({ code: 'ERR_INVALID_STORE_KEY' });
    await store.settled();
    expect(store.journalEntries('a')).toEqual([]);
  });
});
