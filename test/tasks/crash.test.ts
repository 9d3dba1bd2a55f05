// A graph survives kill -9 of its process: a child (test/fixtures/tasks/crash-node.ts) runs a 40-task DAG over
// durable idempotent workers; the test kills it with SIGKILL after k tasks completed (k chosen by fast-check),
// possibly several times, then lets a last incarnation finish. Checked: the graph completes; every task's side
// effect was applied exactly once (re-dispatched attempts carry the same message id and are recognised); every
// result is what the DAG computes (each task: its n plus its dependencies' results); for a journal graph, no task a
// follower heard completed (an event) before a kill is sent again by a later incarnation. (A task sent again by a
// later incarnation and heard completed there is fine: its outcome was not on disk at the kill. The workers keep
// the pid of the process that sent each re-dispatch they recognise, which tells the two apart.)
// Runs: TROUPE_CRASH_RUNS (or TROUPE_FC_RUNS / 50); TROUPE_FC_SEED replays a seed; TROUPE_CRASH_VERBOSE=1 prints each
// case (kills, re-dispatches with the incarnation that sent them, completions heard per incarnation).
import fc from 'fast-check';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crashGraph, resentAfterHeard, TASKS, type Incarnation } from '../fixtures/tasks/crash-graph.ts';

const NODE = fileURLToPath(new URL('../fixtures/tasks/crash-node.ts', import.meta.url));
const RUNS = Number(process.env.TROUPE_CRASH_RUNS ?? (process.env.TROUPE_FC_RUNS ? Math.ceil(Number(process.env.TROUPE_FC_RUNS) / 50) : 2));

interface Done { op: 'done'; summary: { status: string }; effects: Record<string, number>; redispatched: number; redone: Array<{ task: string; pid: number }>; results: Record<string, number> }

function expected(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of crashGraph()) out[s.id] = (s.payload as { n: number }).n + (s.dependsOn ?? []).reduce((a, d) => a + out[d], 0);
  return out;
}

/** Run the child until `killAfter` completions are heard (then SIGKILL), or to the end (undefined). */
function incarnation(dir: string, durability: string, killAfter: number | undefined): Promise<{ done?: Done; heard: number; completed: string[]; pid: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(NODE, [dir, durability], { execArgv: ['--import', 'tsx'], env: { ...process.env, TROUPE_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.resume();
    let heard = 0, killed = false, done: Done | undefined;
    const completed: string[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('message', (m: { op: string; task?: string }) => {
      if (m.op === 'progress') {
        heard++;
        completed.push(m.task!);
      }
      if (m.op === 'done') done = m as Done;
      if (!killed && killAfter !== undefined && (heard >= killAfter || m.op === 'done')) {
        killed = true;
        child.kill('SIGKILL');
      }
      if (m.op === 'done' && killAfter === undefined) child.kill('SIGTERM');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (killed || done) return resolve({ done, heard, completed, pid: child.pid! });
      reject(new Error(`child exited on its own (${code ?? signal})\n${stderr}`));
    });
  });
}

describe.each(['journal', 'snapshot'])('task graphs across kill -9 (durability: %s)', (durability) => {
  it('resume: completed tasks are not run again, running ones re-dispatched with the same id, each effect once', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: TASKS - 5 }), { minLength: 1, maxLength: 2 }), async (kills) => {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-tasks-crash-'));
      try {
        const heard: number[] = [];
        // Per incarnation: its pid and the completions a follower heard in it.
        const runs: Incarnation[] = [];
        for (const k of kills) {
          const run = await incarnation(dir, durability, k);
          heard.push(run.heard);
          runs.push(run);
        }
        const last = await incarnation(dir, durability, undefined);
        runs.push(last);
        const { done } = last;
        if (process.env.TROUPE_CRASH_VERBOSE === '1') {
          const sentIn = (pid: number) => runs.findIndex((r) => r.pid === pid) + 1;
          console.log(`kills after ${kills.join(', ')} completions (heard ${heard.join(', ')}); ${done?.redispatched} re-dispatch(es) recognised: ${done?.redone.map((r) => `${r.task}@${sentIn(r.pid)}`).join(' ')}; heard ${runs.map((r, i) => `${i + 1}: ${r.completed.join(' ')}`).join('; ')}`);
        }
        expect(done, 'the last incarnation reports the graph done').toBeDefined();
        expect(done!.summary.status, JSON.stringify((done as { failures?: unknown }).failures)).toBe('completed');
        expect(Object.keys(done!.effects).length).toBe(TASKS);
        for (const [task, n] of Object.entries(done!.effects)) expect(n, task).toBe(1);
        expect(done!.results).toEqual(expected());
        // A journal graph publishes a completion only once it is journaled: no task a follower saw completed before
        // a crash is sent again after it. (A snapshot graph's last ~10 ms of transitions may be sent again.)
        if (durability === 'journal') expect(resentAfterHeard(runs, done!.redone), 'tasks heard completed, then sent again by a later incarnation').toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: RUNS, ...(process.env.TROUPE_FC_SEED ? { seed: Number(process.env.TROUPE_FC_SEED) } : {}) });
  }, 240_000);
});

describe('the crash check: which re-dispatches break the journal promise', () => {
  // From a run of the property above (kill after 17 completions heard, 20 heard before the process died): the
  // second incarnation sent t17, t19, t20 and t22 again (their outcomes were not on disk at the kill) and a follower
  // then heard them completed, in that incarnation. The check of every incarnation's completions against every
  // re-dispatch flagged those four (seed 1894919274 in CI, task t4 the same way); they are fine.
  const first = { pid: 101, completed: ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 't10', 't11', 't12', 't13', 't14', 't15', 't16', 't18', 't21', 't23'] };
  const second = { pid: 102, completed: ['t19', 't20', 't22', 't17', 't26', 't29'] };
  const third = { pid: 103, completed: ['t32'] };
  it('a task sent again by the incarnation after a kill and heard completed there is not flagged', () => {
    const redone = ['t19', 't20', 't22', 't17'].map((task) => ({ task, pid: second.pid }));
    expect(resentAfterHeard([first, second], redone)).toEqual([]);
  });
  it('a task heard completed before a kill and sent again by any later incarnation is flagged', () => {
    expect(resentAfterHeard([first, second, third], [{ task: 't4', pid: second.pid }])).toEqual([{ task: 't4', pid: second.pid }]);
    expect(resentAfterHeard([first, second, third], [{ task: 't26', pid: third.pid }, { task: 't32', pid: third.pid }])).toEqual([{ task: 't26', pid: third.pid }]);
    // A re-dispatch from a process the test did not start counts against every incarnation.
    expect(resentAfterHeard([first, second], [{ task: 't19', pid: 999 }])).toEqual([{ task: 't19', pid: 999 }]);
  });
});
