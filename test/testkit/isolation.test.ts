// Two simulations in one process share nothing: the same seed run twice back to back gives the same trace, event for
// event, with the agents' shared parts in play (the quota governor, started by a supervision tree as an application
// does, not by startQuotaGovernor; tool actors on simulated threads; the simulated model).
import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { GOVERNOR_ID, quotaGovernor } from '../../agents/index.ts';
import { dictionary, researcher } from '../agents/fixtures/team.ts';
import { Simulation } from '../../testkit/index.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';
const script = [rules.callTool('define', { word: 'actor' }), rules.answer('done')];
const limits = { limits: { default: { requestsPerMinute: 2, inputTokensPerMinute: 1e9, outputTokensPerMinute: 1e9 } } };

/** Three agents paced by the governor to two requests a minute, with a tool on a simulated thread; then stopped. */
async function run(seed: number) {
  const sim = await Simulation.start({ seed, threads: 2, maxDeliveryDelayMs: 3, durable: 'memory' });
  try {
    const model = sim.model({ rules: script, latencyMs: 200, jitterMs: 50 });
    await sim.supervise({ id: 'infra', strategy: 'one-for-one', children: [{ id: GOVERNOR_ID, actor: quotaGovernor, args: limits, pin: 0 } as never] });
    await sim.spawn(dictionary, { id: 'dict', pin: 2 });
    const agents = await Promise.all(['r1', 'r2', 'r3'].map((id) => sim.spawn(researcher, { id, args: { endpoint: model.endpoint } })));
    const runs = agents.map((a, i) => sim.ask(a, 'run', { task: `define actor ${i}` }, { timeoutMs: 3_600_000 }));
    await sim.runUntilIdle();
    const texts = (await Promise.all(runs)).map((r) => r.text);
    return { hash: sim.hash(), steps: sim.steps, now: sim.now, texts, calls: model.calls.map((c) => c.at) };
  } finally {
    await sim.stop();
  }
}

describe('simulations are isolated from each other', { timeout: 120_000 }, () => {
  it('the same seed twice in one process: identical trace hashes (the governor keeps nothing between them)', async () => {
    const a = await run(11);
    expect(a.texts).toEqual(['done', 'done', 'done']);
    expect(a.calls.at(-1)! - a.calls[0]).toBeGreaterThanOrEqual(60_000); // six requests at two a minute: paced
    const b = await run(11);
    expect(b).toEqual(a);
    const c = await run(12); // another seed in between does not change a third run of the first
    expect(c.hash).not.toBe(a.hash);
    expect(await run(11)).toEqual(a);
  });
});
