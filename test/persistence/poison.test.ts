// Poison messages on the recovery path (runtime/replay.ts), in one process: the store's tables, and a runtime on
// the calling thread restoring journals seeded in the store, as a crash would have left them. (Real thread and
// process deaths: test/supervisors/poison-thread.test.ts and test/persistence/poison-crash.test.ts.)
import { describe, expect, it } from 'vitest';
import { startRuntime, eventually } from '../kernel/helpers.ts';
import { openStore, snap, tempDir } from './helpers.ts';
import { poisonable, trace } from '../fixtures/poison.ts';
import { durableCounter } from '../fixtures/durable.ts';
import { ActorStore } from '../../persistence/index.ts';
import { defineActor } from '../../actors/define.ts';
import { ManualClock, type Runtime } from '../../runtime/index.ts';
import { SUSPECT_TURN_MS } from '../../runtime/replay.ts';

const add = (seq: number, text: string) => ({ seq, id: `m${seq}`, type: 'add', payload: text });

/** Write what a crash would leave behind: a snapshot, journal entries not covered by it, a delivery count. */
async function seed(dataDir: string, actorId: string, entries: Array<{ seq: number; id: string; type: string; payload: unknown }>, record?: { seq: number; attempts: number }, snapshot?: { seq: number; state: unknown }) {
  const store = ActorStore.open(dataDir);
  try {
    if (snapshot !== undefined) await store.writeSnapshot(actorId, snap(snapshot.seq, snapshot.state));
    for (const e of entries) store.appendJournal(actorId, e.seq, e);
    if (record !== undefined) void store.recordDelivery(actorId, record);
    await store.settled();
  } finally {
    await store.close();
  }
}

async function session<T>(dataDir: string, body: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await startRuntime({ workers: 0, dataDir });
  try {
    return await body(rt);
  } finally {
    await rt.shutdown();
  }
}

const deadLetters = async (rt: Runtime, reason: 'poison' | 'crashed') => (await rt.stats()).deadLetters[reason] ?? 0;

describe('the store: delivery counts and poison messages', () => {
  it('round-trips a delivery record, per actor', async () => {
    const { store } = openStore();
    expect(store.deliveryRecord('a')).toBeUndefined();
    await store.recordDelivery('a', { seq: 4, attempts: 2 });
    await store.recordDelivery('ab', { seq: 1, attempts: 1 });
    expect(store.deliveryRecord('a')).toEqual({ seq: 4, attempts: 2 });
    await store.recordDelivery('a', { seq: 4, attempts: 3 }); // overwritten, not appended
    expect(store.deliveryRecord('a')).toEqual({ seq: 4, attempts: 3 });
    await expect(store.recordDelivery('a', { seq: 0, attempts: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_STORE_KEY' });
  });

  it('keeps poison messages per actor in seq order until dropped; storing one again overwrites it', async () => {
    const { store } = openStore();
    const p = (seq: number) => ({ ...add(seq, `x${seq}`), attempts: 3, at: 1000 + seq });
    for (const seq of [12, 3]) await store.putPoison('a', p(seq));
    await store.putPoison('a', p(3));
    await store.putPoison('ab', p(1));
    expect(store.poisonMessages('a')).toEqual([p(3), p(12)]);
    expect(await store.dropPoison('a', 3)).toBe(true);
    expect(await store.dropPoison('a', 3)).toBe(false);
    expect(store.poisonMessages('a')).toEqual([p(12)]);
    await store.recordDelivery('a', { seq: 12, attempts: 3 });
    await store.deleteActor('a');
    expect(store.poisonMessages('a')).toEqual([]);
    expect(store.deliveryRecord('a')).toBeUndefined();
    expect(store.poisonMessages('ab')).toEqual([p(1)]);
  });
});

describe('replaying a restored journal (runtime on the calling thread)', () => {
  it('the steady state records no delivery count; a restored head is counted (on disk) before it is handled', async () => {
    const dataDir = tempDir();
    await session(dataDir, async (rt) => {
      const c = await rt.spawn(durableCounter, { id: 'c' });
      await Promise.all(Array.from({ length: 20 }, () => rt.send(c, 'inc')));
      expect(await rt.ask(c, 'get')).toBe(20);
      const store = ActorStore.open(dataDir);
      expect(store.deliveryRecord('c')).toBeUndefined(); // no write per message, not even one per actor
      await store.close();
    });
    await seed(dataDir, 'p', [add(1, 'a'), add(2, 'b')]);
    await session(dataDir, async (rt) => {
      const p = await rt.spawn(poisonable, { id: 'p' });
      rt.tell(p, 'add', 'c'); // sent while the head's count is being written: queued behind the replay
      expect(await rt.ask(p, 'get')).toEqual(['a', 'b', 'c']);
      const store = ActorStore.open(dataDir);
      expect(store.deliveryRecord('p')).toEqual({ seq: 1, attempts: 1 });
      await store.close();
    });
  });

  it('a head replayed poisonAfter times is set aside: not handled, a "poison" dead letter, the rest applied once', async () => {
    const dataDir = tempDir();
    // As after three losses while handling seq 2 (poisonAfter: 2): 'a' (1) handled and in the snapshot.
    await seed(dataDir, 'p', [add(1, 'a'), add(2, 'die'), add(3, 'c'), add(4, 'd')], { seq: 2, attempts: 2 }, { seq: 1, state: { log: ['a'] } });
    await session(dataDir, async (rt) => {
      const p = await rt.spawn(poisonable, { id: 'p' });
      expect(await rt.ask(p, 'get')).toEqual(['a', 'c', 'd']); // and the process is still alive: 'die' never ran
      expect(await deadLetters(rt, 'poison')).toBe(1);
      expect((await rt.stats()).recentDeadLetters.find((d) => d.reason === 'poison')).toMatchObject({ to: 'p', type: 'add' });
      const [poison] = await rt.poisonMessages('p');
      expect(poison).toMatchObject({ seq: 2, id: 'm2', type: 'add', payload: 'die', attempts: 2 });
      rt.tell(p, 'add', 'e'); // keeps working
      expect(await rt.ask(p, 'get')).toEqual(['a', 'c', 'd', 'e']);
    });
    await session(dataDir, async (rt) => {
      const p = await rt.spawn(poisonable, { id: 'p' });
      expect(await rt.ask(p, 'get')).toEqual(['a', 'c', 'd', 'e']); // nothing replayed, nothing lost
      expect(await deadLetters(rt, 'poison')).toBe(0);
      expect((await rt.poisonMessages('p')).map((m) => m.seq)).toEqual([2]); // kept for the operator
      expect(await rt.dropPoisonMessage('p', 2)).toBe(true);
      expect(await rt.poisonMessages('p')).toEqual([]);
    });
  });

  it('requeue: a poison message is sent again as a new message, then forgotten; twice is recognised as a retry', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 'p', [{ seq: 1, id: 'x', type: 'add', payload: 'fixed now' }], { seq: 1, attempts: 2 });
    await session(dataDir, async (rt) => {
      const p = await rt.spawn(poisonable, { id: 'p' });
      await eventually(async () => (await rt.poisonMessages('p')).length === 1);
      expect(await rt.ask(p, 'get')).toEqual([]);
      const [poison] = await rt.poisonMessages('p');
      expect(await rt.requeuePoisonMessage(p, 1)).toMatchObject({ messageId: 'x#requeued-1', duplicate: false });
      // A crash between the send and the forget would leave it listed: requeued again, the send is a duplicate.
      const store = ActorStore.open(dataDir);
      await store.putPoison('p', poison);
      await store.close();
      expect(await rt.requeuePoisonMessage(p, 1)).toMatchObject({ duplicate: true });
      expect(await rt.requeuePoisonMessage(p, 99)).toBeUndefined();
      expect(await rt.ask(p, 'get')).toEqual(['fixed now']);
      expect(await rt.poisonMessages('p')).toEqual([]);
    });
  });

  it('requeue of a message whose id is near the size limit: a digest of it stands in, the same every time', async () => {
    const dataDir = tempDir();
    const id = 'x'.repeat(895); // + '#requeued-1' would pass the 900-byte limit
    await seed(dataDir, 'p', [{ seq: 1, id, type: 'add', payload: 'long' }], { seq: 1, attempts: 2 });
    await session(dataDir, async (rt) => {
      const p = await rt.spawn(poisonable, { id: 'p' });
      await eventually(async () => (await rt.poisonMessages('p')).length === 1);
      const [poison] = await rt.poisonMessages('p');
      const first = await rt.requeuePoisonMessage(p, 1);
      expect(first).toMatchObject({ duplicate: false, messageId: expect.stringMatching(/^[\w-]{43}#requeued-1$/) });
      const store = ActorStore.open(dataDir);
      await store.putPoison('p', poison);
      await store.close();
      expect(await rt.requeuePoisonMessage(p, 1)).toMatchObject({ duplicate: true, messageId: first!.messageId });
      expect(await rt.ask(p, 'get')).toEqual(['long']);
    });
  });

  it('heads replayed before (suspects) are tried one at a time per thread, each once its predecessor is on disk', async () => {
    const dataDir = tempDir();
    const slow = (seq: number, text: string) => ({ seq, id: `m${seq}`, type: 'slowAdd', payload: text });
    for (const id of ['x', 'y', 'z']) await seed(dataDir, id, [slow(1, `${id}1`), slow(2, `${id}2`)], { seq: 1, attempts: 1 });
    await seed(dataDir, 'fresh', [slow(1, 'f1')]); // a first try: not held back by the suspects
    trace.length = 0;
    await session(dataDir, async (rt) => {
      const refs = await Promise.all(['x', 'y', 'z', 'fresh'].map((id) => rt.spawn(poisonable, { id })));
      for (const r of refs) await eventually(async () => (await rt.ask(r, 'get')).length === (r.id === 'fresh' ? 1 : 2));
    });
    const heads = trace.filter((t) => /^[xyz]1:/.test(t));
    // No suspect head starts while another is running.
    expect(heads).toEqual(['x1:start', 'x1:end', 'y1:start', 'y1:end', 'z1:start', 'z1:end']);
    expect(trace.indexOf('f1:start')).toBeLessThan(trace.indexOf('x1:end'));
  });

  it('a suspect that never finishes holds up the next one only for SUSPECT_TURN_MS (in the runtime\'s clock)', async () => {
    const dataDir = tempDir();
    await seed(dataDir, 'x', [{ seq: 1, id: 'm1', type: 'hang', payload: undefined }], { seq: 1, attempts: 1 });
    await seed(dataDir, 'y', [add(1, 'y1')], { seq: 1, attempts: 1 });
    const clock = new ManualClock();
    const rt = await startRuntime({ workers: 0, dataDir, clock });
    await rt.spawn(poisonable, { id: 'x' });
    const y = await rt.spawn(poisonable, { id: 'y' });
    const log = rt.ask(y, 'get'); // answered once y's replayed head has run
    const store = ActorStore.open(dataDir);
    try {
      await eventually(() => store.deliveryRecord('x')?.attempts === 2); // x's turn: counted, handed over, hanging
      expect(store.deliveryRecord('y')).toEqual({ seq: 1, attempts: 1 }); // y waits its turn
      clock.advance(SUSPECT_TURN_MS);
      expect(await log).toEqual(['y1']);
      expect(store.deliveryRecord('y')).toEqual({ seq: 1, attempts: 2 });
    } finally {
      await store.close();
    }
  });

  it('bad input: poisonAfter is an integer >= 1 on a durable mailbox, else ERR_INVALID_DEFINITION', () => {
    const def = (persistence: object) => () => defineActor({ kind: 'x', init: () => ({}), handlers: {}, persistence });
    for (const bad of [0, -1, 1.5, '3', Number.NaN]) {
      expect(def({ durableMailbox: true, poisonAfter: bad })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_DEFINITION' }));
      expect(def({ durableMailbox: true, poisonAfter: bad })).toThrow(/poisonAfter/);
    }
    expect(def({ poisonAfter: 2 })).toThrow(/durableMailbox/);
    expect(def({ durableMailbox: true, poisonAfter: 1 })).not.toThrow();
  });
});
