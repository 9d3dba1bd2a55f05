import { describe, expect, it } from 'vitest';
import { expectDeepFrozen, type Rec } from './nested-model.ts';
import { currentOf, deepFreeze, WorkCopy } from '../../runtime/workcopy.ts';

// Records a message changes or stores become state as copies owned by the run, frozen when the run is committed
// (runtime/workcopy.ts own, workcopy-node.ts freezeOwned): what the committed state must still be, on both of
// freezeOwned's ways (each record listed; every value of a container changed more times than it has values).

function frozen<T>(v: T): T {
  deepFreeze(v);
  return v;
}

/** One run of `n` messages of `handler` over `state`, committed. */
function run<S>(state: S, n: number, handler: (draft: S, i: number) => void): S {
  const work = new WorkCopy(state as object);
  for (let i = 0; i < n; i++) {
    work.begin();
    handler(work.draft as S, i);
    work.end();
  }
  return work.commit() as S;
}

type Board = { n: number; tasks: Record<string, { runs: number; status: string }> };
type Log = { count: number; items: { seq: number }[] };

describe('working copy: records owned by the run', () => {
  for (const [label, n] of [['few changes (each listed)', 50], ['more changes than records (every value)', 3000]] as const) {
    it(`a map of records changed ${label}: the committed state is deep-frozen and right`, () => {
      const tasks: Board['tasks'] = {};
      for (let i = 0; i < 20; i++) tasks[`t${i}`] = { runs: 0, status: 'idle' };
      const next = run(frozen({ n: 0, tasks }), n, (s: Board, i) => {
        const t = s.tasks[`t${i % 20}`];
        t.runs += 1;
        t.status = 'ran';
        if (i % 7 === 0) s.tasks[`new${i % 30}`] = { runs: i, status: 'made' }; // a record the message made
        s.n += 1;
      });
      expect(next.n).toBe(n);
      expect(next.tasks.t3.runs).toBe(Math.floor(n / 20) + (3 < n % 20 ? 1 : 0));
      expectDeepFrozen(next);
    });

    it(`an array appended to ${label}, trimmed by splice: deep-frozen and right`, () => {
      const next = run(frozen({ count: 0, items: [] as Log['items'] }), n, (s: Log) => {
        s.items.push({ seq: s.count });
        if (s.items.length > 40) s.items.splice(0, 20);
        s.count += 1;
      });
      expect(next.items.at(-1)).toEqual({ seq: n - 1 });
      expect(next.items.map((e) => e.seq)).toEqual(Array.from({ length: next.items.length }, (_, i) => n - next.items.length + i));
      expectDeepFrozen(next);
    });
  }

  it('a record kept by its handler is detached: written later (in the run or after it), the state does not change', () => {
    const keptRecords: Rec[] = [];
    const state = frozen({ n: 0, tasks: { a: { runs: 0 } } as Record<string, { runs: number }>, list: [] as Rec[] });
    const work = new WorkCopy(state);
    work.begin();
    const d = work.draft as { tasks: Record<string, { runs: number }>; list: Rec[] };
    const a = d.tasks.a;
    a.runs = 1;
    const entry = { x: 1 };
    d.list.push(entry);
    keptRecords.push(a, entry);
    work.end();
    work.begin();
    a.runs = 99; // in a later message of the run, not through its draft: goes nowhere
    entry.x = 99;
    expect((work.draft as typeof d).tasks.a.runs).toBe(1);
    expect((work.draft as typeof d).list[0]).toEqual({ x: 1 });
    work.rollback();
    const next = work.commit() as typeof state;
    for (const r of keptRecords) (r as Record<string, number>).runs = 7;
    expect(next).toEqual({ n: 0, tasks: { a: { runs: 1 } }, list: [{ x: 1 }] });
    expectDeepFrozen(next);
  });

  it('a record changed, then read again in a later message of the run and rolled back there', () => {
    const state = frozen({ n: 0, tasks: { a: { runs: 0 }, b: { runs: 0 } } as Record<string, { runs: number }> });
    const work = new WorkCopy(state);
    work.begin();
    (work.draft as typeof state).tasks.a.runs = 1;
    work.end();
    work.begin();
    const t = (work.draft as typeof state).tasks;
    t.b.runs = 5; // the message puts a lent record in: a later read of the owned 'a' is checked, and lent too
    t.a.runs += 10;
    expect(t.a.runs).toBe(11);
    work.rollback();
    work.begin();
    expect((work.draft as typeof state).tasks.a.runs).toBe(1);
    work.end();
    const next = work.commit() as typeof state;
    expect(next.tasks).toEqual({ a: { runs: 1 }, b: { runs: 0 } });
    expectDeepFrozen(next);
  });

  it('records lent from an array, changed, then moved by a reordering method: the changed records move; a throw undoes all', () => {
    type Items = { n: number; items: { id: number; v: number }[] };
    const state = frozen({ n: 0, items: [{ id: 0, v: 0 }, { id: 1, v: 0 }, { id: 2, v: 0 }, { id: 3, v: 0 }] });
    const work = new WorkCopy(state);
    for (const [label, move] of [
      ['reverse', (a: Items['items']) => a.reverse()],
      ['splice', (a: Items['items']) => a.splice(0, 1, { id: 9, v: 9 })],
      ['sort', (a: Items['items']) => a.sort((x, y) => y.v - x.v)],
      ['unshift', (a: Items['items']) => a.unshift({ id: 8, v: 8 })],
    ] as const) {
      const plain = structuredClone(currentOf((work.draft as Items).items) as Items['items']);
      for (const throws of [true, false]) {
        work.begin();
        const items = (work.draft as Items).items;
        items[1].v += 5; // lent, changed
        const kept = items[2]; // lent, only read
        expect(kept.v).toBeGreaterThanOrEqual(0);
        move(items);
        items[0].v += 1; // whatever is first now: lent, or the copy the method moved there
        if (throws) {
          work.rollback();
          continue;
        }
        work.end();
      }
      plain[1].v += 5;
      move(plain);
      plain[0].v += 1;
      work.begin();
      expect(currentOf((work.draft as Items).items), label).toEqual(plain);
      work.end();
    }
    const next = work.commit() as Items;
    expectDeepFrozen(next);
  });

  it('a container sent while its message is in progress holds the changes to the records lent from it', () => {
    const state = frozen({ n: 0, tasks: { a: { runs: 0 }, b: { runs: 0 } } as Record<string, { runs: number }> });
    const work = new WorkCopy(state);
    work.begin();
    const tasks = (work.draft as typeof state).tasks;
    tasks.a.runs = 3;
    expect(currentOf(tasks)).toEqual({ a: { runs: 3 }, b: { runs: 0 } });
    work.end();
    expect(work.commit()).toEqual({ n: 0, tasks: { a: { runs: 3 }, b: { runs: 0 } } });
  });
});
