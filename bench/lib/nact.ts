import { dispatch, query, spawn, start, stop } from 'nact';

/** The peer baseline: nact 7.6.2, a stateful counting actor, on the calling thread. */
type Msg = { type: 'add'; by: number } | { type: 'get'; sender: unknown };

const counting = (state: number, msg: Msg) => {
  if (msg.type === 'add') return state + msg.by;
  dispatch(msg.sender as never, state);
  return state;
};

export function nactSystem() {
  const system = start();
  let seq = 0;
  return {
    counter() {
      return spawn(system, counting as never, `counter-${++seq}`, { initialState: 0 });
    },
    /** Same idle state as Troupe's tally ({ count: 0 }); explicit names because nact's anonymous names collide. */
    idle(i: number) {
      return spawn(system, counting as never, `idle-${i}`, { initialState: { count: 0 } as never });
    },
    stop: () => stop(system),
  };
}

export type NactRef = ReturnType<ReturnType<typeof nactSystem>['counter']>;

export function nactTell(ref: NactRef, by: number): void {
  dispatch(ref, { type: 'add', by } as never);
}

export function nactGet(ref: NactRef): Promise<number> {
  return query(ref, (sender: unknown) => ({ type: 'get', sender }) as never, 5000) as Promise<number>;
}
