// A durable message that kills the whole process (the actor on the main thread, process.exit in its handler):
// every start of the process replays it and dies again, until it is set aside as poison (poisonAfter: 2).
// The child is test/fixtures/crash/poison-node.ts. Messages journaled before it that were handled but whose
// snapshot a death cut short are replayed too, each once counted: they complete (their outcome reaches the disk
// before anything after them runs), so they are never blamed, and each is applied exactly once.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';
import type { Reply, Request } from '../fixtures/crash/poison-node.ts';

const NODE = fileURLToPath(new URL('../fixtures/crash/poison-node.ts', import.meta.url));
const live = new Set<ChildProcess>();
afterEach(() => {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
});

/** A child on `dataDir`: `next(op)` waits for that reply, `exit` for the process to end (with its code). */
function boot(dataDir: string) {
  const proc = fork(NODE, [dataDir], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  proc.stdout!.resume();
  const replies: Reply[] = [];
  const waiting: Array<() => void> = [];
  proc.on('message', (r: Reply) => {
    replies.push(r);
    for (const w of waiting.splice(0)) w();
  });
  let exited = false;
  // 'close': the process ended and its IPC channel is drained (every reply it sent has been read).
  const exit = new Promise<number | null>((resolve) => proc.once('close', (code) => {
    exited = true;
    live.delete(proc);
    for (const w of waiting.splice(0)) w();
    resolve(code);
  }));
  return {
    exit,
    stderr: () => stderr,
    send: (req: Request) => proc.connected && proc.send(req),
    /** The next reply `op`, or undefined if the process ends first. */
    async next<K extends Reply['op']>(op: K): Promise<Extract<Reply, { op: K }> | undefined> {
      for (;;) {
        const i = replies.findIndex((r) => r.op === op);
        if (i >= 0) return replies.splice(i, 1)[0] as Extract<Reply, { op: K }>;
        if (exited) return undefined;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

describe('a durable message that kills its process', () => {
  it('is set aside after poisonAfter replays across process restarts; before and after it, each applied once', { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    let child = boot(dataDir);
    await child.next('ready');
    child.send({ op: 'send', texts: ['a', 'b', 'die', 'c', 'd'] }); // one commit: all journaled, then handled
    expect(await child.exit).toBe(7); // the first delivery of 'die'

    // Start again until a start survives: each replays the journal's head, counted on disk before it runs.
    let deaths = 1;
    let state: Extract<Reply, { op: 'state' }> | undefined;
    while (state === undefined) {
      child = boot(dataDir);
      child.send({ op: 'get' });
      state = await child.next('state');
      if (state !== undefined) break;
      const code = await child.exit;
      if (code !== 7) throw new Error(`the child exited with ${code}:\n${child.stderr()}`);
      deaths++;
      // At most: one replay each of 'a' and 'b' (handled before 'die', their snapshot cut short), two of 'die'.
      expect(deaths).toBeLessThanOrEqual(1 + 2 + 2);
    }
    expect(deaths).toBeGreaterThanOrEqual(3); // 'die' ran its first delivery and its two replays
    expect(state.log).toEqual(['a', 'b', 'c', 'd']);
    expect(state.poison).toEqual([expect.objectContaining({ seq: 3, id: 'die', type: 'add', payload: 'die', attempts: 2 })]);
    child.send({ op: 'shutdown' });
    expect(await child.exit).toBe(0);

    // A graceful restart: nothing replayed, the poison message still listed until the operator drops it.
    child = boot(dataDir);
    child.send({ op: 'get' });
    expect(await child.next('state')).toMatchObject({ log: ['a', 'b', 'c', 'd'], poison: [{ seq: 3 }] });
    child.send({ op: 'drop', seq: 3 });
    expect(await child.next('dropped')).toEqual({ op: 'dropped', dropped: true });
    child.send({ op: 'get' });
    expect(await child.next('state')).toMatchObject({ log: ['a', 'b', 'c', 'd'], poison: [] });
    child.send({ op: 'shutdown' });
    expect(await child.exit).toBe(0);
  });
});
