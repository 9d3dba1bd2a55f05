import { describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { defineActor } from '../../actors/define.ts';

// Apart from draft.test.ts: its property test fills the copier cache, and a full cache copies every shape generically.

type Rec = Record<string, unknown>;

describe('draft: an actor keeps the shape of its state with the state', () => {
  const shifty = defineActor({
    kind: 'draft-shifty',
    init: () => ({ n: 0 }),
    handlers: {
      grow: (state) => {
        (state as Rec).extra = 1;
      },
      add: (state, by: number) => {
        state.n += by;
      },
      crash: () => {
        throw new Error('boom');
      },
      keys: (state) => Object.keys(state),
    },
  });

  it('a restart starts from init: the next draft has the initial shape, not the shape committed before the crash', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      const sup = await rt.supervise({ id: 'shape-root', children: [{ id: 'shifty', actor: shifty }] });
      const ref = sup.ref<typeof shifty>('shifty')!;
      rt.tell(ref, 'add', 1);
      rt.tell(ref, 'grow');
      rt.tell(ref, 'add', 1);
      expect(await rt.ask(ref, 'keys')).toEqual(['n', 'extra']);
      await rt.ask(ref, 'crash').catch(() => undefined);
      rt.tell(ref, 'add', 2);
      expect(await rt.ask(ref, 'keys')).toEqual(['n']);
    } finally {
      await rt.shutdown();
    }
  });

  it('a draft that cannot be committed (a throwing getter left on it) is a crash: state as it was, the actor goes on', async () => {
    const trap = (state: Rec) => {
      state.n = 99;
      Object.defineProperty(state, 'bad', { enumerable: true, get: () => { throw new Error('getter'); } });
    };
    const sneaky = defineActor({
      kind: 'draft-sneaky',
      init: () => ({ n: 0 }),
      handlers: { trap, trapAsk: (state) => { trap(state as Rec); return 'done'; }, add: (state, by: number) => { state.n += by; }, get: (state) => state.n },
    });
    const rt = await Runtime.start({ workers: 0 });
    try {
      const ref = await rt.spawn(sneaky, { id: 'sneaky' });
      rt.tell(ref, 'add', 1);
      rt.tell(ref, 'trap'); // the tell path: used to throw out of the scheduler's turn
      rt.tell(ref, 'add', 1);
      expect(await rt.ask(ref, 'get')).toBe(2);
      await expect(rt.ask(ref, 'trapAsk')).rejects.toMatchObject({ code: 'ERR_ACTOR_CRASHED' });
      expect(await rt.ask(ref, 'get')).toBe(2);
      expect((await rt.stats()).deadLetters).toMatchObject({ crashed: expect.any(Number) });
    } finally {
      await rt.shutdown();
    }
  });

  it('two actors of different shapes taking turns, one message each, keep their own shapes', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      const a = await rt.spawn(shifty);
      const b = await rt.spawn(shifty);
      rt.tell(b, 'grow');
      for (let i = 0; i < 10; i++) {
        rt.tell(a, 'add', 1);
        rt.tell(b, 'add', 2);
      }
      expect(await rt.ask(a, 'keys')).toEqual(['n']);
      expect(await rt.ask(b, 'keys')).toEqual(['n', 'extra']);
    } finally {
      await rt.shutdown();
    }
  });
});
