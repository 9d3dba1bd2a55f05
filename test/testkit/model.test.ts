import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rules } from '../../agents/model-server/index.ts';
import { defineAgent, startQuotaGovernor } from '../../agents/index.ts';
import { dictionary, hasty, researcher } from '../agents/fixtures/team.ts';
import { assertInvariants, faultPlanArbitrary, nothingLost, simCheck, validatePlan, type Fault, type SimRun } from '../../testkit/index.ts';
import { start } from './support/sims.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);

const script = [rules.callTool('define', { word: 'actor' }), rules.answer((v) => `final: ${v.toolResults().map((r) => r.content).join(' / ')}`)];
const ANSWER = 'final: actor: a word of 5 letters';

/** Keeps only the last two messages whole when it compacts. */
const compacting = defineAgent({ kind: 'test.compacting', model: 'claude-haiku-4-5', maxTurns: 8, keepRecent: 2, tools: [{ name: 'define', input_schema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] }, actor: 'dict' }] });

/** A durable researcher agent with a dictionary tool, on the simulated model; one run of 'define actor'. */
async function agentRun(seed: number, faults: Fault[], o: { agent?: typeof researcher | typeof hasty; threads?: number } = {}) {
  const sim = await start({ seed, faults, durable: true, maxDeliveryDelayMs: 3, threads: o.threads });
  const model = sim.model({ rules: script, latencyMs: 200, jitterMs: 50 });
  await sim.spawn(dictionary, { id: 'dict' });
  const agent = await sim.spawn((o.agent ?? researcher) as typeof researcher, { id: 'r1', args: { endpoint: model.endpoint, governor: false } });
  const result = await sim.call(agent, 'run', { task: 'define actor' }, { timeoutMs: 3_600_000 });
  return { sim, model, result };
}

describe('model API faults in simulation', { timeout: 60_000 }, () => {
  it('a 429 with a 60 s retry-after: the agent waits in virtual time and finishes; same seed, same trace hash', async () => {
    const plan: Fault[] = [{ kind: 'model-error', onCall: 1, error: 'rate-limit', retryAfterS: 60 }];
    const a = await agentRun(7, plan);
    expect(a.result.text).toBe(ANSWER);
    expect(a.result.failures).toEqual({ 'rate-limited': 1 });
    expect(a.model.calls.map((c) => c.outcome)).toEqual(['rate_limit_error', 'ok', 'ok']);
    // The wait was on the virtual clock: a real 60 s timer would have left the handler pending when the simulation
    // went idle (a NondeterminismError), and this test has a 60 s budget of real time.
    expect(a.model.calls[1].at - a.model.calls[0].at).toBeGreaterThanOrEqual(60_000);
    expect(a.sim.now).toBeGreaterThanOrEqual(60_000);
    expect(a.sim.timeline()).toContain('429 rate_limit_error, retry-after 60 s (injected)');
    const b = await agentRun(7, plan);
    expect(b.sim.hash()).toBe(a.sim.hash());
    const c = await agentRun(8, plan);
    expect(c.sim.hash()).not.toBe(a.sim.hash()); // the seed matters (delivery delays, latency jitter)
  });

  it('529, plain and as an error event inside a streamed 200: the agent backs off (seeded jitter) and continues the same turn', async () => {
    const plan: Fault[] = [{ kind: 'model-error', onCall: 1, error: 'overloaded', inStream: true }, { kind: 'model-error', onCall: 2, error: 'overloaded' }];
    const a = await agentRun(3, plan);
    expect(a.result.text).toBe(ANSWER);
    expect(a.result.failures).toEqual({ overloaded: 2 });
    expect(a.result.turns).toBe(2);
    expect(a.model.calls.map((c) => c.outcome)).toEqual(['overloaded_error', 'overloaded_error', 'ok', 'ok']);
    expect(a.sim.timeline()).toContain('200 whose stream carries an overloaded_error event');
    expect(a.sim.crashes).toEqual([]);
    expect((await agentRun(3, plan)).sim.hash()).toBe(a.sim.hash());
  });

  it('a timeout costs the endpoint timeout (600 s) of virtual time, then a retry; not streamed too', async () => {
    const a = await agentRun(5, [{ kind: 'model-error', onCall: 2, error: 'timeout' }], { agent: hasty });
    expect(a.result.text).toBe(ANSWER);
    expect(a.result.failures).toEqual({ transient: 1 });
    expect(a.model.calls.map((c) => `${c.outcome}${c.stream ? '~' : ''}`)).toEqual(['ok', 'timeout', 'ok']);
    expect(a.model.calls[2].at - a.model.calls[1].at).toBeGreaterThanOrEqual(600_000);
  });

  it('prompt too long: the agent compacts and asks again; a fault for one agent counts that agent\'s requests', async () => {
    const sim = await start({ seed: 9, durable: true, faults: [{ kind: 'model-error', onCall: 5, agent: 'r1', error: 'prompt-too-long' }] });
    const words = ['actor', 'mailbox', 'supervisor', 'journal'];
    const model = sim.model({ rules: [rules.when((v) => v.task === 'define four words' && v.turn < 4, (v) => ({ toolUse: { name: 'define', input: { word: words[v.turn] } } })), rules.answer((v) => `defined ${v.toolResults().length}`)] });
    await sim.spawn(dictionary, { id: 'dict' });
    const other = await sim.spawn(hasty, { id: 'h1', args: { endpoint: model.endpoint, governor: false } });
    const agent = await sim.spawn(compacting, { id: 'r1', args: { endpoint: model.endpoint, governor: false } });
    await sim.call(other, 'run', { task: 'a request of another agent first' });
    const result = await sim.call(agent, 'run', { task: 'define four words' }, { timeoutMs: 3_600_000 });
    expect(result.failures).toEqual({ 'context-too-long': 1 });
    expect(result.compactions).toBe(1);
    expect(result.text).toMatch(/^defined \d$/);
    expect(model.calls.filter((c) => c.agent === 'r1').map((c) => c.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'invalid_request_error', 'ok']);
  });

  it('agents on simulated threads: the waits are on the thread\'s clock; a lost thread mid-wait resumes the durable run', async () => {
    const plan: Fault[] = [{ kind: 'model-error', onCall: 1, error: 'rate-limit', retryAfterS: 30 }, { kind: 'lose-thread', thread: 1, atMs: 10_000 }];
    const sim = await start({ seed: 11, faults: plan, durable: true, threads: 1 });
    const model = sim.model({ rules: script });
    await sim.spawn(dictionary, { id: 'dict', pin: 0 });
    const tree = await sim.supervise({ id: 'sup', strategy: 'one-for-one', intensity: { maxRestarts: 3, withinMs: 60_000 }, children: [{ id: 'r1', actor: researcher, args: { endpoint: model.endpoint, governor: false }, pin: 1 } as never] });
    const agent = tree.ref<typeof researcher>('r1')!;
    const answer = sim.ask(agent, 'run', { task: 'define actor', runId: 'run-1' }, { timeoutMs: 3_600_000 }).catch((e: Error) => e);
    await sim.runUntilIdle();
    expect(sim.threadsLost).toBe(1);
    // the ask waiting on the lost thread failed; the restarted agent replays its durable mailbox and finishes the run
    expect(await answer).toMatchObject({ code: 'ERR_WORKER_LOST' });
    const result = await sim.call(agent, 'result', 'run-1');
    expect(result?.text).toBe(ANSWER);
    // the lost thread's wait never fired: the replayed run asked the model again, not the dead incarnation
    expect(model.calls.filter((c) => c.outcome === 'ok').length).toBe(2);
  });

  it('quota pacing by the governor runs on the virtual clock', async () => {
    const sim = await start({ seed: 2, durable: true });
    const model = sim.model({ rules: [rules.answer('ok')] });
    await sim.until(startQuotaGovernor(sim.runtime, { limits: { default: { requestsPerMinute: 1, inputTokensPerMinute: 1e9, outputTokensPerMinute: 1e9 } } }));
    const a = await sim.spawn(hasty, { id: 'a1', args: { endpoint: model.endpoint } });
    const b = await sim.spawn(hasty, { id: 'a2', args: { endpoint: model.endpoint } });
    const runs = [sim.ask(a, 'run', { task: 'one' }, { timeoutMs: 3_600_000 }), sim.ask(b, 'run', { task: 'two' }, { timeoutMs: 3_600_000 })];
    await sim.runUntilIdle();
    expect((await Promise.all(runs)).map((r) => r.text)).toEqual(['ok', 'ok']);
    const [first, second] = model.calls;
    expect(second.at - first.at).toBeGreaterThanOrEqual(50_000); // one request per minute: the second waited its turn
  });

  it('bad model faults are named errors', async () => {
    expect(() => validatePlan([{ kind: 'model-error', onCall: 0, error: 'timeout' }])).toThrow(/onCall must be an integer >= 1/);
    expect(() => validatePlan([{ kind: 'model-error', onCall: 1, error: 'teapot' as never }])).toThrow(/error must be one of rate-limit, overloaded, timeout, prompt-too-long/);
    const sim = await start({ seed: 1, faults: [{ kind: 'model-error', onCall: 1, error: 'timeout' }] });
    await expect(sim.runUntilIdle()).rejects.toMatchObject({ code: 'ERR_SIM_UNKNOWN_TARGET' });
    const other = await start({ seed: 1, faults: [{ kind: 'model-error', onCall: 1, error: 'timeout', agent: 'nobody' }] });
    other.model();
    await expect(other.runUntilIdle()).rejects.toMatchObject({ code: 'ERR_SIM_UNKNOWN_TARGET' });
  });
});

describe('model faults from the arbitraries', { timeout: 300_000 }, () => {
  it('any plan of model faults, crashes and delays: every run answers or fails by name, nothing is lost, and it replays exactly', async () => {
    const property = async (input: { plan: Fault[] }, run: SimRun) => {
      const hashes: string[] = [];
      for (let i = 0; i < 2; i++) {
        const sim = await run.start({ faults: input.plan, durable: true, maxDeliveryDelayMs: 3 });
        const model = sim.model({ rules: script, latencyMs: 100, jitterMs: 100 });
        await sim.spawn(dictionary, { id: 'dict' });
        const tree = await sim.supervise({ id: 'sup', strategy: 'one-for-one', intensity: { maxRestarts: 10, withinMs: 60_000 }, children: [{ id: 'r1', actor: researcher, args: { endpoint: model.endpoint, governor: false } }] });
        const outcome = await sim.call(tree.ref<typeof researcher>('r1')!, 'run', { task: 'define actor', runId: 'run-1' }, { timeoutMs: 7_200_000 }).then((r) => r.text, (e: { code: string }) => e.code);
        await sim.runUntilIdle();
        if (outcome !== ANSWER && !['ERR_CONTEXT_WINDOW_EXCEEDED', 'ERR_ACTOR_CRASHED', 'ERR_SIM_INJECTED_FAULT', 'ERR_MODEL_UNAVAILABLE'].includes(outcome)) throw new Error(`run ended with ${outcome}`);
        assertInvariants(nothingLost(sim));
        hashes.push(sim.hash());
      }
      if (hashes[0] !== hashes[1]) throw new Error(`same seed, different trace hashes: ${hashes.join(' vs ')}`);
    };
    const input = fc.record({ plan: faultPlanArbitrary({ actors: ['r1', 'dict'], kinds: ['model-error', 'crash', 'delay'], maxMessage: 6, maxCall: 3, maxFaults: 3 }) });
    await simCheck(input, property, { numRuns: Math.max(5, Math.round(RUNS / 5)), seed: 12 });
  });
});
