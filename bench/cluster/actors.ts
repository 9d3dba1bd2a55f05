import { defineActor } from '../../runtime/index.ts';

/** Counts what it is told; `get` answers how many so far (the sender's way to know a burst has landed). */
export const sink = defineActor({
  kind: 'cluster-sink',
  init: () => ({ count: 0 }),
  handlers: {
    add: (state, _msg: { i: number; text: string }) => {
      state.count++;
    },
    get: (state) => state.count,
  },
});
