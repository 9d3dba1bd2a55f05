import { defineActor } from '../actors/define.ts';
import type { ActorRef } from '../actors/define.ts';

/** The counting actor every throughput and latency figure uses (same shape as test/fixtures/counter.ts). */
export const tally = defineActor({
  kind: 'bench-tally',
  init: () => ({ count: 0 }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

/** Worker-to-worker figure: one ask makes it send `n` tells to `target`, then ask it for its count. */
export const blaster = defineActor({
  kind: 'bench-blaster',
  init: () => ({}),
  handlers: {
    blast: (_state, p: { target: ActorRef; n: number }, ctx) => {
      for (let i = 0; i < p.n; i++) ctx.tell(p.target, 'add', 1);
      return ctx.ask(p.target, 'get', undefined, { timeoutMs: 120_000 }) as Promise<number>; // behind n tells (spans recorded: seconds on a busy host)
    },
  },
});

/** Heap probe pinned on a worker: collects (when gc is exposed) and reports that thread's isolate heap. */
export const heapProbe = defineActor({
  kind: 'bench-heap-probe',
  init: () => ({}),
  handlers: {
    heap: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return { heapUsed: process.memoryUsage().heapUsed, gc: typeof (globalThis as { gc?: unknown }).gc === 'function' };
    },
  },
});

/**
 * When phoenix last crashed or was stamped, on the thread it runs on (module state survives a restart of the actor:
 * the next incarnation reads what the crashed one wrote, with the same clock).
 */
let stampedAt = 0;

/**
 * Supervision figures: a counter that crashes on request ('crash' throws) and can take its whole thread down
 * ('die' exits the worker, as a handler calling process.exit would). Same add/get as tally. 'crash' and 'stamp'
 * note the time on the actor's thread; 'sinceStamp' answers how long ago that was (us) and the count, so a
 * 'sinceStamp' queued right behind a 'crash' times crash -> next message handled by the new incarnation.
 */
export const phoenix = defineActor({
  kind: 'bench-phoenix',
  init: () => ({ count: 0 }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
    crash: () => {
      stampedAt = performance.now();
      throw new Error('bench crash');
    },
    stamp: () => {
      stampedAt = performance.now();
    },
    sinceStamp: (state) => ({ us: (performance.now() - stampedAt) * 1000, count: state.count }),
    die: () => process.exit(1),
  },
});

/**
 * Persistence figures: a counter with a durable mailbox (each message journaled, applied exactly once). 'record'
 * takes the ~100 B payload of bench/lib/lmdb-raw.ts, so a journal entry is the size of a raw baseline record.
 */
export const durableTally = defineActor({
  kind: 'bench-durable-tally',
  persistence: { durableMailbox: true },
  init: () => ({ count: 0, n: 0, note: 'y'.repeat(60) }), // ~100 B snapshot
  handlers: {
    record: (state, entry: { text: string; n: number; ok: boolean }) => {
      state.count += 1;
      state.n = entry.n;
    },
    get: (state) => state.count,
  },
});

/** The same counter snapshotted after every message (no durable mailbox), and its twin without persistence. */
export const snapshotTally = defineActor({
  kind: 'bench-snapshot-tally',
  persistence: { snapshot: { every: 'message' } },
  init: () => ({ count: 0, note: 'y'.repeat(60) }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

export const plainTally = defineActor({
  kind: 'bench-plain-tally',
  init: () => ({ count: 0, note: 'y'.repeat(60) }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

/**
 * The nested states of the headline figures (issue 15): what an agent's state looks like. Each counts its
 * messages in `count` (or `n`), so a kernel checks them all alike with 'get'.
 * - tallyLog: `{ count, log: {} }`, the handler changing only `count`.
 * - tallyChat: `{ count, messages: [50 messages of ~200 characters] }`, the handler changing only `count`.
 * - taskBoard: `{ n, tasks: { t0..t999: { status, runs } } }`, one record changed per message.
 * - transcript: `{ count, items: [...] }`, the handler appends an entry; past 200 the oldest 100 are dropped (a
 *   conversation trimmed to its window).
 */
export const chatMessages = (): { role: string; content: string }[] =>
  Array.from({ length: 50 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `message ${i}: `.padEnd(200, 'lorem ipsum dolor sit amet ') }));

export const tallyLog = defineActor({
  kind: 'bench-tally-log',
  init: () => ({ count: 0, log: {} as Record<string, string> }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

export const tallyChat = defineActor({
  kind: 'bench-tally-chat',
  init: () => ({ count: 0, messages: chatMessages() }),
  handlers: {
    add: (state, by: number) => {
      state.count += by;
    },
    get: (state) => state.count,
  },
});

export const taskBoard = defineActor({
  kind: 'bench-task-board',
  init: () => {
    const tasks: Record<string, { status: string; runs: number }> = {};
    for (let i = 0; i < 1000; i++) tasks[`t${i}`] = { status: 'idle', runs: 0 };
    return { n: 0, tasks };
  },
  handlers: {
    add: (state, by: number) => {
      const task = state.tasks[`t${state.n % 1000}`];
      task.runs += by;
      task.status = 'ran';
      state.n += by;
    },
    get: (state) => state.n,
  },
});

export const transcript = defineActor({
  kind: 'bench-transcript',
  init: () => ({ count: 0, items: [] as { seq: number; by: number }[] }),
  handlers: {
    add: (state, by: number) => {
      state.items.push({ seq: state.count, by });
      if (state.items.length > 200) state.items.splice(0, 100);
      state.count += by;
    },
    get: (state) => state.count,
  },
});

/** The nested states by name, for kernels that run each (the flat `tally` beside them). */
export const nestedStates = { 'log: {}': tallyLog, 'messages: 50': tallyChat, 'map: 1000': taskBoard, 'append': transcript };
