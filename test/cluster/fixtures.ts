import { existsSync, writeFileSync } from 'node:fs';
import { defineActor } from '../../runtime/index.ts';

/** Remembers every note in arrival order, per sender: per-pair FIFO across nodes is read from `notes`. */
export const notebook = defineActor({
  kind: 'notebook',
  init: () => ({ notes: [] as string[], count: 0 }),
  handlers: {
    note: (state, text: string) => {
      state.notes.push(text);
      state.count++;
    },
    count: (state) => state.count,
    notes: (state) => state.notes,
    echo: (_state, value: unknown) => value,
    fail: (_state, why: string) => {
      throw new Error(`failed: ${why}`);
    },
    slow: async (_state, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    },
    where: () => process.pid,
    /** Writes the file `started`, then answers once the file `release` exists (a handler held open by a test). */
    gated: async (_state, files: { started: string; release: string }) => {
      writeFileSync(files.started, '');
      while (!existsSync(files.release)) await new Promise((r) => setTimeout(r, 20));
      return 'released';
    },
  },
});

/** Relays to another actor by ref (the ref came in a message, from another node). */
export const relay = defineActor({
  kind: 'relay',
  init: () => ({}),
  handlers: {
    askIt: async (_state, msg: { to: { id: string; kind: string; node: number }; text: string }, ctx) => {
      ctx.tell(msg.to, 'note', msg.text);
      return ctx.ask(msg.to, 'count');
    },
  },
});

/** A durable account: a send is acknowledged once journaled where it is handled. */
export const ledger = defineActor({
  kind: 'ledger',
  persistence: { durableMailbox: true },
  init: () => ({ balance: 0, applied: 0 }),
  handlers: {
    deposit: (state, amount: number) => {
      state.balance += amount;
      state.applied++;
    },
    balance: (state) => state,
  },
});
