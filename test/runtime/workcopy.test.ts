import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { apply, clone, expectDeepFrozen, message, refusedOrInert, rootState, walk, type Rec } from './nested-model.ts';
import { deepFreeze, isWorkDraft, WorkCopy } from '../../runtime/workcopy.ts';
import { Runtime } from '../../runtime/index.ts';
import { defineActor, type ActorRef } from '../../actors/define.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);

describe('working copy: nested state over runs of messages', () => {
  it('matches a deep-copy reference for random nested states, mutations and throwing handlers', () => {
    // Runs of messages (each run one WorkCopy), a throw rolling back its message only.
    const run = fc.array(message, { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(rootState, fc.array(run, { minLength: 1, maxLength: 4 }), (init, runsOfMessages) => {
      let reference = clone(init);
      let state: unknown = init;
      deepFreeze(state);
      const kept: Rec[] = [];
      for (const messages of runsOfMessages) {
        const before = state;
        const beforeData = clone(before);
        const work = new WorkCopy(state as object);
        let last: Rec | undefined;
        for (const m of messages) {
          work.begin();
          const draft = work.draft as Rec;
          kept.push(draft);
          last = draft;
          // The effects of the messages before are visible: the draft reads as the reference.
          expect(clone(JSON.parse(JSON.stringify({ ...draft, m: undefined })))).toEqual(JSON.parse(JSON.stringify({ ...reference, m: undefined })));
          const next = clone(reference);
          let threw = false;
          try {
            for (const o of m.ops) apply(draft, o);
            if (m.throws) throw new Error('boom');
            work.end();
          } catch (err) {
            if ((err as Error).message !== 'boom') throw err;
            threw = true;
            work.rollback();
            last = undefined;
          }
          if (!threw) {
            for (const o of m.ops) apply(next, o);
            reference = next;
          }
        }
        state = work.commit();
        expect(state).toEqual(reference);
        expectDeepFrozen(state);
        // The state before the run is untouched.
        expect(before).toEqual(beforeData);
        // A draft kept from any message cannot change the committed state. The last message's draft (if it did
        // not throw) refuses writes: frozen (a plain root) or closed (a proxy root). A plain root draft of an earlier
        // message is detached (each message has a fresh copy): a write to its own keys goes nowhere. Below the root,
        // every kept draft refuses writes.
        const snapshot = clone(state);
        if (last !== undefined) {
          const d = last;
          expect(() => { d.count = -1; }).toThrow(TypeError);
          if (Object.prototype.hasOwnProperty.call(d, 'a')) expect(() => { delete d.a; }).toThrow(TypeError);
        }
        for (const d of kept) {
          refusedOrInert(() => { d.count = -1; });
          refusedOrInert(() => { delete d.a; });
          const inner = walk(d, [0]);
          if (inner !== d) expect(() => { inner.zz = 1; }).toThrow(TypeError);
        }
        expect(state).toEqual(snapshot);
      }
    }), { numRuns: runs });
  }, Math.max(30_000, runs * 120)); // (TROUPE_FC_RUNS=1000 on a loaded host takes longer than the default)

  it('a draft stored elsewhere (aliasing) is its value at the end of the message, not a live view', () => {
    const state = { a: { n: 1 }, b: null as unknown, list: [{ x: 1 }] };
    deepFreeze(state);
    const work = new WorkCopy(state);
    work.begin();
    const d = work.draft as Rec;
    d.b = d.a;
    (d.list as unknown[]).unshift({ x: 0 });
    work.end();
    work.begin();
    (d.a as Rec).n = 2;
    ((d.list as Rec[])[1]).x = 5;
    work.end();
    const next = work.commit() as Rec;
    expect(next).toEqual({ a: { n: 2 }, b: { n: 1 }, list: [{ x: 0 }, { x: 5 }] });
    expectDeepFrozen(next);
  });

  it('a draft of a wide flat record (a proxy) stored at another place is its value there', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 20; i++) wide[`k${i}`] = i;
    const state = deepFrozen({ n: 0, box: { wide, other: null as unknown } });
    const work = new WorkCopy(state);
    work.begin();
    const box = (work.draft as Rec).box as Rec;
    box.other = box.wide; // (ended with a TypeError: the proxy refused the freeze of a flat record)
    (box.wide as Rec).k0 = -1;
    work.end();
    const next = work.commit() as { box: { wide: Rec; other: Rec } };
    expect(next.box.other).toEqual({ ...wide, k0: -1 });
    expect(next.box.wide.k0).toBe(-1);
    expectDeepFrozen(next);
  });

  it('a plain root draft kept from an earlier message is detached: its writes change nothing, a throw rolls back', () => {
    const state = deepFrozen({ count: 0, log: [] as number[] });
    const work = new WorkCopy(state);
    work.begin();
    const first = work.draft as { count: number; log: number[] };
    first.count = 1;
    work.end();
    work.begin();
    first.count = 50; // a draft of the message before: detached
    first.log.push(7); // below the root, a draft: written into this message
    expect((work.draft as { count: number }).count).toBe(1);
    work.end();
    work.begin();
    first.log.push(8);
    first.count = 60;
    work.rollback(); // the message throws: its push through the kept draft is undone
    work.begin();
    expect(work.draft).toEqual({ count: 1, log: [7] });
    work.end();
    const next = work.commit() as { count: number; log: number[] };
    expect(next).toEqual({ count: 1, log: [7] });
    expectDeepFrozen(next);
    expect(() => { first.log.push(9); }).toThrow(TypeError);
  });

  it('reading only: the run commits the very state it started from', () => {
    const state = deepFrozen({ a: { b: [1, 2, { c: 3 }] } });
    const work = new WorkCopy(state);
    work.begin();
    const d = work.draft as Rec;
    expect(JSON.stringify(d)).toBe(JSON.stringify(state));
    work.end();
    expect(work.commit()).toBe(state);
  });
});

function deepFrozen<T>(v: T): T {
  deepFreeze(v);
  return v;
}

describe('working copy in an actor', () => {
  const board = defineActor({
    kind: 'workcopy-board',
    init: () => ({ count: 0, tasks: {} as Record<string, { runs: number }>, log: [] as string[] }),
    handlers: {
      add: (state, p: { id: string; boom?: boolean }) => {
        state.count += 1;
        (state.tasks[p.id] ??= { runs: 0 }).runs += 1;
        state.log.push(p.id);
        if (p.boom) throw new Error('boom');
      },
      keep: (state) => {
        kept = state;
      },
      later: async (state, id: string) => {
        await new Promise((r) => setTimeout(r, 1));
        state.log.push(id);
        return state.log.length;
      },
      laterBoom: async (state) => {
        state.count += 100;
        await new Promise((r) => setTimeout(r, 1));
        throw new Error('late boom');
      },
      self: (state) => state,
      tasks: (state) => ({ tasks: state.tasks }),
    },
  });
  let kept: { count: number } | undefined;

  it('rollback per message within a run, frozen replies, kept drafts refused, async handlers', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      const ref = await rt.spawn(board);
      for (let i = 0; i < 50; i++) rt.tell(ref, 'add', { id: `t${i % 5}`, boom: i % 7 === 3 });
      rt.tell(ref, 'keep');
      const self = (await rt.ask(ref, 'self')) as { count: number; tasks: Record<string, { runs: number }>; log: string[] };
      const ok = Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 7 !== 3);
      expect(self.count).toBe(ok.length);
      expect(self.log).toEqual(ok.map((i) => `t${i % 5}`));
      expect(Object.isFrozen(self) && Object.isFrozen(self.tasks) && Object.isFrozen(self.log)).toBe(true);
      expect(() => { kept!.count = 99; }).toThrow(TypeError);
      const { tasks } = (await rt.ask(ref, 'tasks')) as { tasks: Record<string, { runs: number }> };
      expect(isWorkDraft(tasks)).toBe(false);
      expect(tasks).toEqual(self.tasks);
      expect(await rt.ask(ref, 'later', 'x')).toBe(ok.length + 1);
      await expect(rt.ask(ref, 'laterBoom')).rejects.toThrow();
      rt.tell(ref, 'add', { id: 'z' });
      const after = (await rt.ask(ref, 'self')) as { count: number; log: string[] };
      expect(after.count).toBe(ok.length + 1);
      expect(after.log.at(-2)).toBe('x');
    } finally {
      await rt.shutdown();
    }
  });

  it('a record sent while its message is in progress is its value at the send (a lent copy is a draft too)', async () => {
    const seen: unknown[] = [];
    const sink = defineActor({
      kind: 'workcopy-sink',
      init: () => ({}),
      handlers: { got: (_s, task: unknown) => void seen.push(task) },
    });
    const sender = defineActor({
      kind: 'workcopy-sender',
      init: () => ({ n: 0, tasks: { a: { runs: 0, status: 'idle' } } }),
      handlers: {
        send: (state, to: ActorRef, ctx) => {
          const task = state.tasks.a;
          task.runs += 1;
          ctx.tell(to, 'got', task);
          task.runs += 10; // after the send: not in what was sent
          task.status = 'sent';
        },
        get: (state) => state.tasks.a,
      },
    });
    const rt = await Runtime.start({ workers: 0 });
    try {
      const to = await rt.spawn(sink);
      const ref = await rt.spawn(sender);
      rt.tell(ref, 'send', to);
      expect(await rt.ask(ref, 'get')).toEqual({ runs: 11, status: 'sent' });
      await vi.waitFor(() => expect(seen.length).toBe(1));
      expect(seen[0]).toEqual({ runs: 1, status: 'idle' });
    } finally {
      await rt.shutdown();
    }
  });
});
