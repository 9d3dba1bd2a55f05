import { dispatch, query, spawn, start, stop, type Ref } from 'nact';

/** The peer baseline: nact 7.6.2, a stateful counting actor, on the calling thread. */
type Msg = { type: 'add'; by: number } | { type: 'get'; sender: Ref<number> };
type State = number | { count: number };

const counting = (state: State, msg: Msg): State => {
  if (msg.type === 'add') return (state as number) + msg.by;
  dispatch(msg.sender, typeof state === 'number' ? state : state.count);
  return state;
};

export type NactRef = Ref<Msg>;

export function nactSystem() {
  const system = start();
  let seq = 0;
  return {
    counter(): NactRef {
      return spawn(system, counting, `counter-${++seq}`, { initialState: 0 });
    },
    /** Same idle state as Troupe's tally ({ count: 0 }); explicit names because nact's anonymous names collide. */
    idle(i: number): NactRef {
      return spawn(system, counting, `idle-${i}`, { initialState: { count: 0 } });
    },
    stop: () => stop(system),
  };
}

export function nactTell(ref: NactRef, by: number): void {
  dispatch(ref, { type: 'add', by });
}

export function nactGet(ref: NactRef): Promise<number> {
  return query(ref, (sender: Ref<number>): Msg => ({ type: 'get', sender }), 5000);
}
