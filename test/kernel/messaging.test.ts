import { describe, expect, it } from 'vitest';
import { startRuntime, eventually, sleep } from './helpers.ts';
import { counter } from '../fixtures/counter.ts';
import { recorder, sender, serial, prioritized } from '../fixtures/kinds.ts';
import { broken } from '../fixtures/broken.ts';
import {
  ActorCrashedError, ActorNotFoundError, ActorStoppedError, AskTimeoutError, DefinitionLoadError, DuplicateActorIdError,
  InvalidSpawnOptionError, MailboxFullError, MessageNotCloneableError, UnknownMessageTypeError, InvalidDefinitionError,
} from '../../runtime/errors.ts';
import type { TerminationNotice } from '../../actors/define.ts';

// Every behaviour runs with all actors on the calling thread (0 workers) and on two real worker threads.
describe.each([0, 2])('kernel with %i workers', (workers) => {
  it('tell and ask, with state kept between messages', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter, { args: { start: 5 } });
    expect(ref.node).toBe(workers === 0 ? 0 : 1);
    rt.tell(ref, 'add', 3);
    rt.tell(ref, 'add', 4);
    expect(await rt.ask(ref, 'get')).toBe(12);
  });

  it('a throwing handler leaves the state as it was and the actor keeps running', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter, { args: { start: 1 } });
    const err = await rt.ask(ref, 'boom', 'kaput').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorCrashedError);
    expect((err as ActorCrashedError).code).toBe('ERR_ACTOR_CRASHED');
    expect(((err as Error).cause as Error).message).toBe('kaput');
    expect(await rt.ask(ref, 'get')).toBe(1);
    rt.tell(ref, 'boom', 'again');
    await eventually(async () => (await rt.stats()).deadLetters.crashed === 1);
    expect(await rt.ask(ref, 'get')).toBe(1);
  });

  it('async handlers: one message at a time, in order, and the ask answers after the state change', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(serial);
    const done = [1, 2, 3, 4].map((n) => rt.ask(ref, 'work', { n, ms: 5 - n }));
    await Promise.all(done);
    expect(await rt.ask(ref, 'report')).toEqual({ maxActive: 1, order: [1, 2, 3, 4] });
    const c = await rt.spawn(counter);
    expect(await rt.ask(c, 'slowAdd', { by: 7, ms: 5 })).toBe(7);
  });

  it('tells to async handlers: one at a time, in order, each state change kept', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(serial);
    for (const n of [1, 2, 3, 4]) rt.tell(ref, 'work', { n, ms: 5 - n });
    await eventually(async () => (await rt.ask(ref, 'report')).order.length === 4);
    expect(await rt.ask(ref, 'report')).toEqual({ maxActive: 1, order: [1, 2, 3, 4] });
    const c = await rt.spawn(counter);
    rt.tell(c, 'slowAdd', { by: 7, ms: 5 });
    rt.tell(c, 'add', 1); // waits for the async handler before it
    rt.tell(c, 'boom', 'x'); // rolled back
    expect(await rt.ask(c, 'get')).toBe(8);
  });

  it('ask times out, and a late reply is dropped', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(serial);
    await expect(rt.ask(ref, 'work', { n: 1, ms: 80 }, { timeoutMs: 10 })).rejects.toBeInstanceOf(AskTimeoutError);
    await sleep(100); // the reply arrives after the timeout: nothing breaks, the next ask is fine
    expect((await rt.ask(ref, 'report')).order).toEqual([1]);
  });

  it('ask to a missing actor rejects at once (well before its timeout)', async () => {
    const rt = await startRuntime({ workers });
    const ghost = { id: 'ghost', kind: 'counter', node: workers === 0 ? 0 : 2 } as const;
    const t = Date.now();
    await expect(rt.ask(ghost as never, 'get' as never, undefined as never, { timeoutMs: 4000 } as never)).rejects.toBeInstanceOf(ActorNotFoundError);
    expect(Date.now() - t).toBeLessThan(3000);
    rt.tell(ghost as never, 'add' as never, 1 as never); // never throws: a dead letter
    await eventually(async () => (await rt.stats()).deadLetters['not-found'] === 2);
    // Recorded where the target would live (a worker when there are workers), listed with every thread's.
    const recent = (await rt.stats()).recentDeadLetters.filter((l) => l.to === 'ghost');
    expect(recent.map((l) => [l.type, l.reason, l.node])).toEqual([['get', 'not-found', ghost.node], ['add', 'not-found', ghost.node]]);
  });

  it('unknown message type: ask rejects, tell is a dead letter, the actor lives on', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter);
    await expect((rt as unknown as { ask(...a: unknown[]): Promise<unknown> }).ask(ref, 'nope')).rejects.toBeInstanceOf(UnknownMessageTypeError);
    (rt as unknown as { tell(...a: unknown[]): void }).tell(ref, 'nope', 1);
    rt.tell(ref, 'add', 2);
    expect(await rt.ask(ref, 'get')).toBe(2);
    expect((await rt.stats()).deadLetters['unknown-message-type']).toBe(1);
  });

  it('a reserved or malformed message type is refused where it is sent: a user "$stop" does not stop the actor', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter);
    const loose = rt as unknown as { tell(...a: unknown[]): void; ask(...a: unknown[]): Promise<unknown>; send(...a: unknown[]): Promise<unknown> };
    for (const bad of ['$stop', '$terminated', '', 42]) {
      expect(() => loose.tell(ref, bad, 'x')).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_MESSAGE_TYPE' }));
      await expect(Promise.resolve().then(() => loose.ask(ref, bad))).rejects.toBeInstanceOf(UnknownMessageTypeError);
      await expect(Promise.resolve().then(() => loose.send(ref, bad))).rejects.toBeInstanceOf(UnknownMessageTypeError);
      expect(() => rt.publish('topic', bad as string)).toThrow(UnknownMessageTypeError);
    }
    rt.tell(ref, 'add', 3);
    expect(await rt.ask(ref, 'get')).toBe(3); // still running
  });

  it('a payload that cannot be cloned throws at the call site, on any thread', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter);
    expect(() => rt.tell(ref, 'add', (() => 1) as never)).toThrow(MessageNotCloneableError);
    expect(() => rt.ask(ref, 'add', { s: Symbol('x') } as never)).toThrow(MessageNotCloneableError);
    const s = await rt.spawn(sender);
    const err = await rt.ask(s, 'badTell', ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorCrashedError);
    expect(((err as Error).cause as MessageNotCloneableError).code).toBe('ERR_MESSAGE_NOT_CLONEABLE');
    expect(await rt.ask(ref, 'get')).toBe(0);
  });

  it('spawn: bad options, duplicate ids, bad definitions and failing modules are named errors', async () => {
    const rt = await startRuntime({ workers });
    await expect(rt.spawn(counter, { id: '' })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(rt.spawn(counter, { pin: 99 })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(rt.spawn(counter, { colour: 'red' } as never)).rejects.toThrow(/unknown spawn option 'colour'/);
    await expect(rt.spawn(counter, { mailbox: { kind: 'bounded', capacity: -1 } })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
    await expect(rt.spawn({ kind: 'fake' } as never)).rejects.toBeInstanceOf(InvalidDefinitionError);
    await expect(rt.spawn(counter, { args: { start: () => 1 } as never })).rejects.toBeInstanceOf(MessageNotCloneableError);
    const a = await rt.spawn(counter, { id: 'same' });
    await expect(rt.spawn(counter, { id: 'same' })).rejects.toBeInstanceOf(DuplicateActorIdError);
    expect(await rt.lookup('same')).toEqual(a);
    if (workers > 0) {
      const err = await rt.spawn(broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DefinitionLoadError);
      expect((err as Error).message).toMatch(/refuses to load/);
    }
    rt.tell(a, 'add', 1); // the runtime and its workers keep running
    expect(await rt.ask(a, 'get')).toBe(1);
  });

  it('a run of tells: a throwing tell is rolled back and the run goes on; a tell that stops its actor ends the run', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter, { id: 'run-of-tells' });
    rt.tell(ref, 'add', 1);
    rt.tell(ref, 'boom', 'x');
    rt.tell(ref, 'add', 2);
    expect(await rt.ask(ref, 'get')).toBe(3);
    for (let i = 0; i < 5; i++) rt.tell(ref, 'add', 1);
    rt.tell(ref, 'addThenStop', 10);
    for (let i = 0; i < 4; i++) rt.tell(ref, 'add', 100); // queued behind the stop: never handled
    await eventually(async () => (await rt.lookup('run-of-tells')) === undefined);
    const { deadLetters } = await rt.stats();
    expect(deadLetters.crashed).toBe(1);
    expect(deadLetters.stopped).toBe(4);
  });

  it('stop: the current message finishes, queued asks fail with ActorStoppedError, the rest are dead letters', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(serial, { id: 'worker-bee' });
    const current = rt.ask(ref, 'work', { n: 1, ms: 30 });
    await sleep(5);
    const queued = rt.ask(ref, 'work', { n: 2, ms: 1 });
    rt.tell(ref, 'work', { n: 3, ms: 1 });
    const stopped = rt.stop(ref);
    await expect(current).resolves.toBeUndefined();
    await expect(queued).rejects.toBeInstanceOf(ActorStoppedError);
    await stopped;
    expect(await rt.lookup('worker-bee')).toBeUndefined();
    await expect(rt.ask(ref, 'report')).rejects.toBeInstanceOf(ActorNotFoundError);
    expect((await rt.stats()).deadLetters.stopped).toBe(2);
    await rt.spawn(serial, { id: 'worker-bee' }); // the id is free again
  });

  it('watch: exactly one notice with the reason, at once when already gone; unwatch stops it', async () => {
    const rt = await startRuntime({ workers });
    const watcher = await rt.spawn(recorder);
    const a = await rt.spawn(counter);
    const b = await rt.spawn(counter);
    rt.tell(watcher, 'watch', a);
    rt.tell(watcher, 'watch', a); // twice: still one notice
    rt.tell(watcher, 'watch', b);
    rt.tell(watcher, 'unwatch', b);
    await rt.ask(watcher, 'dump');
    const seen: TerminationNotice[] = [];
    rt.watch(a, (n) => seen.push(n));
    // The watch travels main -> a's thread, the stop below watcher's thread -> a's thread: no order between the two
    // (different senders). An ask from the main thread behind the watch (same channel, FIFO) puts it in place first.
    await rt.ask(a, 'get');
    // Stopped by the watcher itself: its watch and the stop travel the same channel, so the watch is in place.
    rt.tell(watcher, 'stop', a);
    await eventually(() => seen.length === 1);
    await rt.stop(b);
    rt.tell(watcher, 'watch', a); // already gone
    await eventually(async () => (await rt.ask(watcher, 'notices')).length >= 2);
    await sleep(20);
    const notices = await rt.ask(watcher, 'notices');
    expect(notices).toEqual([
      { id: a.id, kind: 'counter', reason: 'stopped' },
      { id: a.id, kind: 'counter', reason: 'not-found' },
    ]);
    expect(seen).toEqual([{ id: a.id, kind: 'counter', reason: 'stopped' }]);
  });

  it('broadcast reaches every subscriber of a topic on every thread', async () => {
    const rt = await startRuntime({ workers });
    const subs = await Promise.all([0, 1, 2].map(() => rt.spawn(recorder)));
    const other = await rt.spawn(recorder);
    for (const s of subs) await rt.ask(s, 'subscribe', 'news');
    const pub = await rt.spawn(sender);
    await rt.ask(pub, 'publish', { topic: 'news', seq: 1 });
    rt.publish('news', 'rec', { from: 'main', seq: 2 });
    for (const s of subs) {
      await eventually(async () => Object.keys(await rt.ask(s, 'dump')).length === 2);
      expect(await rt.ask(s, 'dump')).toEqual({ [pub.id]: [1], main: [2] });
    }
    expect(await rt.ask(other, 'dump')).toEqual({});
  });

  it('bounded mailbox: drop sends overflow to dead letters, fail rejects the ask with MailboxFullError', async () => {
    const rt = await startRuntime({ workers });
    // Taken once the actor is busy with it and its mailbox is empty again (no fixed sleeps: a loaded host may take
    // longer than any sleep to start the handler). The blocker runs long enough for the poll to see it busy.
    const takenAlone = (id: string) => eventually(async () => {
      const seen = await rt.inspect(id, { state: false });
      return seen !== undefined && seen.busy && seen.mailboxDepth === 0;
    });
    const failing = await rt.spawn(serial, { mailbox: { kind: 'bounded', capacity: 1, overflow: 'fail' } });
    const first = rt.ask(failing, 'work', { n: 1, ms: 400 });
    await takenAlone(failing.id);
    const second = rt.ask(failing, 'work', { n: 2, ms: 1 }); // fills the mailbox
    await expect(rt.ask(failing, 'work', { n: 3, ms: 1 })).rejects.toBeInstanceOf(MailboxFullError);
    await Promise.all([first, second]);
    expect((await rt.ask(failing, 'report')).order).toEqual([1, 2]);
    const dropping = await rt.spawn(serial, { mailbox: { kind: 'bounded', capacity: 1 } });
    void rt.ask(dropping, 'work', { n: 1, ms: 400 });
    await takenAlone(dropping.id);
    rt.tell(dropping, 'work', { n: 2, ms: 1 });
    rt.tell(dropping, 'work', { n: 3, ms: 1 });
    await eventually(async () => (await rt.stats()).deadLetters['mailbox-full'] === 2);
    // An ask to a full 'drop' mailbox would itself be dropped: ask once it is idle and empty.
    await eventually(async () => {
      const seen = await rt.inspect(dropping.id, { state: false });
      return seen !== undefined && !seen.busy && seen.mailboxDepth === 0;
    });
    expect((await rt.ask(dropping, 'report')).order).toEqual([1, 2]);
  });

  it('priority mailbox: higher priority first, FIFO within a priority', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(prioritized);
    rt.tell(ref, 'block', 30);
    await sleep(5);
    rt.tell(ref, 'low', 'a');
    rt.tell(ref, 'normal', 'b');
    rt.tell(ref, 'urgent', 'c');
    rt.tell(ref, 'normal', 'd');
    rt.tell(ref, 'urgent', 'e');
    // The ask is itself a normal-priority message: it overtakes 'low', so poll until everything is handled.
    await eventually(async () => (await rt.ask(ref, 'seen')).length === 5);
    expect(await rt.ask(ref, 'seen')).toEqual(['urgent:c', 'urgent:e', 'normal:b', 'normal:d', 'low:a']);
  });

  it('refs travel inside messages and work from any thread; handlers can spawn and look up', async () => {
    const rt = await startRuntime({ workers });
    const target = await rt.spawn(recorder);
    const s = await rt.spawn(sender, workers > 0 ? { pin: 2 } : {});
    expect(await rt.ask(s, 'relay', { to: target, seq: 9 })).toBe(9);
    const child = await rt.ask(s, 'spawnChild', 'kid');
    expect(child.id).toBe('kid');
    expect(await rt.ask(s, 'lookup', 'kid')).toEqual(child);
    expect(await rt.ask(s, 'lookup', 'nobody')).toBeUndefined();
    await expect(rt.ask(s, 'spawnChild', 'kid')).rejects.toBeInstanceOf(ActorCrashedError);
    // Bad options from a handler are the same named error as from outside, on every thread.
    const bad = await rt.ask(s, 'spawnChild', '$reserved').catch((e: ActorCrashedError) => e);
    expect(bad).toBeInstanceOf(ActorCrashedError);
    expect((bad as ActorCrashedError & { cause?: { code?: string } }).cause?.code).toBe('ERR_INVALID_SPAWN_OPTION');
    expect(await rt.ask(child, 'whereAmI')).toEqual(child);
  });

  it('stats: per actor handled and mailbox depth, per thread actor count and utilization', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(counter, { id: 'counted' });
    for (let i = 0; i < 10; i++) rt.tell(ref, 'add', 1);
    await rt.ask(ref, 'get');
    const stats = await rt.stats();
    const actor = stats.nodes.flatMap((n) => n.actors).find((a) => a.id === 'counted')!;
    expect(actor).toMatchObject({ kind: 'counter', handled: 11, mailboxDepth: 0, node: ref.node });
    expect(actor.handlingMs).toBeGreaterThanOrEqual(0);
    expect(stats.nodes.length).toBe(workers + 1);
    expect(stats.nodes.reduce((sum, n) => sum + n.actorCount, 0)).toBe(1);
    for (const n of stats.nodes) expect(n.eventLoopUtilization).toBeGreaterThanOrEqual(0);
  });
});

describe('placement and threads', () => {
  it('spreads actors over the least-loaded workers; pin and near place on request', async () => {
    const rt = await startRuntime({ workers: 2 });
    const refs = await Promise.all([0, 1, 2, 3].map(() => rt.spawn(counter)));
    expect(refs.map((r) => r.node).sort()).toEqual([1, 1, 2, 2]);
    const pinned = await rt.spawn(counter, { pin: 0 });
    expect(pinned.node).toBe(0);
    const near = await rt.spawn(counter, { near: refs[3] });
    expect(near.node).toBe(refs[3].node);
  });

  it('a worker that dies fails the asks waiting on it promptly and notifies watchers', async () => {
    const rt = await startRuntime({ workers: 2 });
    const doomed = await rt.spawn(recorder, { pin: 1 });
    const neighbour = await rt.spawn(counter, { pin: 1 });
    const survivor = await rt.spawn(counter, { pin: 2 });
    const notices: TerminationNotice[] = [];
    rt.watch(neighbour, (n) => notices.push(n));
    const t = Date.now();
    const err = await rt.ask(doomed, 'die', undefined, { timeoutMs: 4000 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('ERR_WORKER_LOST');
    expect(Date.now() - t).toBeLessThan(3000);
    await eventually(() => notices.length === 1);
    expect(notices[0].reason).toBe('worker-lost');
    rt.tell(survivor, 'add', 1);
    expect(await rt.ask(survivor, 'get')).toBe(1);
  });
});
