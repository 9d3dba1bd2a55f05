// A process killed in the middle of a batch on real LMDB (test/testkit/memory-store.test.ts): it opens the store in
// the directory argv[2], issues one kill step's writes (argv[3]: { step, next }), writes the journal seqs it handed
// out as one line of JSON to stdout, and dies by SIGKILL: after the first `at` writes (phase 'gathering', before the
// batch commits), or inside the commit's transaction at its `at`-th put or remove (phase 'commit'; with fewer, once
// the batch's writes are all in the transaction, before it commits). Nothing of the batch may survive.
import { writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { ActorStore } from '../../../persistence/store.ts';
import { issue, type Kill } from './store-steps.ts';

const dir = process.argv[2];
const { step, next: nextEntries } = JSON.parse(process.argv[3]) as { step: Kill; next: Array<[string, number]> };
const next = new Map(nextEntries);
let made = 0;
let inside = false;
/** The second line of stdout says where the process died. */
const die = (): never => {
  writeSync(1, `${JSON.stringify({ died: inside ? 'in-transaction' : 'gathering', made })}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

if (step.phase === 'commit') {
  // lmdb-js makes a store class per open(), extending EventEmitter: catch the store's root as it is constructed,
  // then count the puts and removes its class makes inside the transaction.
  const events = EventEmitter as unknown as { init: (this: Record<string, unknown>, ...args: unknown[]) => void };
  const init = events.init;
  events.init = function (this: Record<string, unknown>, ...args: unknown[]) {
    init.apply(this, args);
    if (typeof this.transaction !== 'function' || typeof this.openDB !== 'function') return;
    events.init = init;
    const root = this;
    const owner = (name: string) => {
      let p = Object.getPrototypeOf(root) as Record<string, unknown>;
      while (!Object.prototype.hasOwnProperty.call(p, name)) p = Object.getPrototypeOf(p);
      return p;
    };
    for (const name of ['put', 'remove']) {
      const p = owner(name);
      const original = p[name] as (...a: unknown[]) => unknown;
      p[name] = function (this: unknown, ...a: unknown[]) {
        if (inside && ++made >= Math.max(1, step.at)) die();
        return original.apply(this, a);
      };
    }
    const transaction = root.transaction as (cb: () => unknown) => Promise<unknown>;
    root.transaction = (cb: () => unknown) => transaction.call(root, () => {
      inside = true;
      cb();
      die(); // fewer writes than `at`: all of them are in the transaction, which never commits
    });
  };
}

const store = ActorStore.open(dir);
const writes = step.phase === 'gathering' ? step.writes.slice(0, step.at) : step.writes;
issue(store, writes, next);
writeSync(1, `${JSON.stringify([...next])}\n`);
if (step.phase === 'gathering') die();
// No batch at all (every write refused at the call, or none to make): nothing can commit; die all the same.
setTimeout(die, 3000);
