import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { dictionary, fragile, tripwire } from './fixtures/team.ts';
import { setup, tempDir } from './helpers.ts';

describe('exactly-once turns across a lost worker thread', () => {
  it('the agent resumes its run: no completed model turn is requested twice, no finished tool call runs twice', { timeout: 120_000 }, async () => {
    const marker = path.join(tempDir(), 'tripped');
    const { runtime, model } = await setup({
      rules: [rules.callTool('trip', { marker }), rules.callTool('define', { word: 'after' }), rules.answer((v) => `resumed: ${v.toolResults().map((r) => r.content).join(' | ')}`)],
    });
    const dict = await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const tree = await runtime.supervise({
      id: 'crew',
      strategy: 'one-for-one',
      children: [
        { id: 'wire', actor: tripwire, pin: 1 },
        { id: 'f1', actor: fragile, pin: 1, args: { endpoint: { mode: 'local', baseURL: model.baseURL } } },
      ],
    });
    const agent = tree.ref<typeof fragile>('f1')!;
    // The tripwire kills worker 1 (agent, journal and tool) in the middle of the run.
    const first = await runtime.ask(agent, 'run', { task: 'trip, then define', runId: 'job-1' }, { timeoutMs: 20_000 }).catch((e) => e);
    expect(first).toBeInstanceOf(Error);
    expect(first.code).toBe('ERR_WORKER_LOST');
    expect(fs.existsSync(marker)).toBe(true);
    // Asking again for the same run: it was replayed from the durable mailbox or resumes now, from the journal.
    // (The thread is being replaced for a moment: a caller retries a lost-worker error, as it would any.)
    // A replacement thread boots the SDK under tsx: seconds on a loaded host.
    const deadline = Date.now() + 60_000;
    let result;
    for (;;) {
      try {
        result = await runtime.ask(agent, 'run', { task: 'trip, then define', runId: 'job-1' }, { timeoutMs: 20_000 });
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_WORKER_LOST' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(result.text).toBe('resumed: tripped before; fine now | after: a word of 5 letters');
    expect(result.turns).toBe(3);
    // The server's log: every completed response requested exactly once.
    const completed = model.log.completedByPrompt();
    expect([...completed.values()]).toEqual([1, 1, 1]);
    expect([...model.log.requestsByPrompt().values()]).toEqual([1, 1, 1]);
    // The dictionary ran once, with the idempotency key of its call.
    const calls = await runtime.ask(dict, 'calls');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^f1:2:toolu_/);
    const stats = await runtime.ask(agent, 'stats');
    expect(stats.runs).toBe(1);
  });
});
