// kill -9 of the whole process at random points of a multi-turn agent run, then a restart on the same data
// directory: the run is replayed from the agent's durable mailbox and resumes from its journal.
//
// What the model server's log must show: the run ends with the right answer and turn count, and a prompt whose
// response the agent had saved is never requested again. A response that the server finished but the killed
// process had not saved yet (a window of a few ms between the last byte and the journal's commit) is requested
// again: no client can avoid that without an idempotency key on the server. So a prompt completed twice is
// allowed only when a kill fell while its first request was in flight or shortly (SAVE_WINDOW_MS) after it was
// answered; a resume that ignored its journal would re-request turns answered long before the kill.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { SNAPSHOT_EVERY } from '../../agents/journal.ts';
import { ActorStore } from '../../persistence/index.ts';
import { setup, tempDir } from './helpers.ts';

const NODE = fileURLToPath(new URL('./fixtures/kill-node.ts', import.meta.url));
const KILLS = Number(process.env.TROUPE_AGENT_KILLS ?? 3);
const SAVE_WINDOW_MS = 100;
/** A request the child sent just before the kill was issued reaches the server (and is stamped) a little after it. */
const IN_TRANSIT_MS = 50;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon']; // 6 turns: the researcher's maxTurns

function boot(dataDir: string, baseURL: string, stallOn?: string): Promise<ChildProcess> {
  const proc = fork(NODE, [dataDir, baseURL, '0', ...(stallOn ? [stallOn] : [])], { execArgv: ['--import', 'tsx'], env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.resume();
  return new Promise((resolve, reject) => {
    proc.on('message', (m: { op: string }) => m.op === 'ready' && resolve(proc));
    proc.once('exit', (code, signal) => signal !== 'SIGKILL' && reject(new Error(`child exited (${code}) ${stderr}`)));
  });
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

describe('kill -9 mid-run', () => {
  it('resumes the run after each kill; no saved turn is requested again', { timeout: 120_000 }, async () => {
    const word = (v: { toolResults(): unknown[] }) => WORDS[v.toolResults().length];
    const { model } = await setup(
      {
        latencyMs: 40,
        rules: [rules.when((v) => v.toolResults().length < WORDS.length, (v) => ({ toolUse: { name: 'define', input: { word: word(v) } } })), rules.answer((v) => `defined ${v.toolResults().length} words`)],
      },
      { workers: 0, governor: false },
    );
    const dataDir = tempDir();
    const kills: number[] = [];
    const splits: number[] = []; // completed responses at each kill
    const random = () => Math.random();
    for (let i = 0; i < KILLS; i++) {
      const child = await boot(dataDir, model.baseURL);
      child.send({ op: 'run' });
      // Inside the run for sure: once the server has finished one or two more responses, then 0-60 ms later
      // (a turn is ~40 ms of model latency, then the journal's commit, then the tool, then another commit).
      const okCount = () => model.log.messages.filter((e) => e.outcome === 'ok').length;
      const target = Math.min(WORDS.length, okCount() + 1 + Math.floor(random() * 2));
      for (let t = 0; okCount() < target && t < 2000; t++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, random() * 60));
      kills.push(Date.now());
      splits.push(okCount());
      await kill(child);
    }
    const child = await boot(dataDir, model.baseURL);
    const done = new Promise<{ op: string; result?: { text: string; turns: number }; message?: string }>((resolve) => child.on('message', (m: { op: string }) => m.op !== 'ready' && resolve(m)));
    child.send({ op: 'run' });
    const outcome = await done;
    await kill(child);
    expect(outcome.op, outcome.message).toBe('done');
    expect(outcome.result!.text).toBe(`defined ${WORDS.length} words`);
    expect(outcome.result!.turns).toBe(WORDS.length + 1);

    const ok = model.log.messages.filter((e) => e.outcome === 'ok');
    const firstDone = new Map<string, { at: number; doneAt: number }>();
    const duplicates: Array<{ digest: string; first: { at: number; doneAt: number }; again: number }> = [];
    for (const e of ok) {
      const first = firstDone.get(e.promptDigest);
      if (first === undefined) firstDone.set(e.promptDigest, { at: e.at, doneAt: e.doneAt });
      else duplicates.push({ digest: e.promptDigest, first, again: e.doneAt });
    }
    expect(firstDone.size).toBe(WORDS.length + 1); // one distinct prompt per turn
    for (const d of duplicates) {
      // excused only if a kill came while the first request was in flight (the server may finish writing to a
      // process already being killed) or right after it was answered (before the journal could commit it)
      expect(kills.some((k) => k >= d.first.at - IN_TRANSIT_MS && k <= d.first.doneAt + SAVE_WINDOW_MS), JSON.stringify({ d, kills })).toBe(true);
    }
    // Every kill came after the first response; the random delay before a kill can let the last turn finish first
    // (then the restart answers from the journal), but at least one kill must fall inside the run.
    expect(splits.every((n) => n >= 1), JSON.stringify(splits)).toBe(true);
    expect(splits.some((n) => n <= WORDS.length), JSON.stringify(splits)).toBe(true);
    console.log(`kill -9 test: ${KILLS} kills after ${splits.join(', ')} completed responses, ${ok.length} completed requests for ${firstDone.size} turns, ${duplicates.length} re-requested inside the save window`);
  });
});

describe('kill -9 after incremental saves', () => {
  it('the saves since the journal\'s last snapshot are only in its journal at the kill; the restart replays them and resumes the run', { timeout: 120_000 }, async () => {
    const word = (v: { toolResults(): unknown[] }) => WORDS[v.toolResults().length];
    const { model } = await setup(
      { rules: [rules.when((v) => v.toolResults().length < WORDS.length, (v) => ({ toolUse: { name: 'define', input: { word: word(v) } } })), rules.answer((v) => `defined ${v.toolResults().length} words`)] },
      { workers: 0, governor: false },
    );
    const dataDir = tempDir();
    // The third turn's tool call never returns: by then the run has saved its start, two responses with their
    // tool results and the third response (tools run only once their response is on disk). Then kill -9.
    const child = await boot(dataDir, model.baseURL, 'gamma');
    const stalled = new Promise<void>((resolve) => child.on('message', (m: { op: string }) => m.op === 'stalled' && resolve()));
    child.send({ op: 'run' });
    await stalled;
    await kill(child);

    // What was on disk at the kill: the journal's snapshot predates the saves, which are journal entries only.
    const store = ActorStore.open(dataDir);
    let uncovered: Array<{ type: string; payload: unknown }>;
    try {
      const snap = store.readSnapshot('k1~journal');
      uncovered = store.journalEntries('k1~journal', snap?.seq ?? 0);
      const saved = (snap?.state as { runs: Record<string, { messages: unknown[] }> } | undefined)?.runs.job;
      expect(saved?.messages.length ?? 0).toBeLessThan(6); // the snapshot does not have the third response
    } finally {
      await store.close();
    }
    const saves = uncovered.filter((e) => e.type === 'save');
    expect(saves.length).toBeGreaterThanOrEqual(4);
    expect(saves.length).toBeLessThan(SNAPSHOT_EVERY);
    expect(saves.filter((e) => 'append' in (e.payload as object)).length).toBeGreaterThanOrEqual(3); // deltas, not whole runs

    const again = await boot(dataDir, model.baseURL);
    const done = new Promise<{ op: string; result?: { text: string; turns: number }; message?: string }>((resolve) => again.on('message', (m: { op: string }) => m.op !== 'ready' && resolve(m)));
    again.send({ op: 'run' });
    const outcome = await done;
    await kill(again);
    expect(outcome.op, outcome.message).toBe('done');
    expect(outcome.result!.text).toBe(`defined ${WORDS.length} words`);
    expect(outcome.result!.turns).toBe(WORDS.length + 1);
    // Every turn requested once: the three responses saved before the kill came back from the replayed saves.
    expect([...model.log.completedByPrompt().values()]).toEqual(Array(WORDS.length + 1).fill(1));
    expect([...model.log.requestsByPrompt().values()]).toEqual(Array(WORDS.length + 1).fill(1));
  });
});
