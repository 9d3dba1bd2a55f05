import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { GOVERNOR_ID } from '../../agents/index.ts';
import { researcher } from './fixtures/team.ts';
import { setup } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });

describe('one quota governor per runtime, shared by every thread', { timeout: 60_000 }, () => {
  it('agents on the main thread and on both workers take their permits from the same buckets', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer(() => 'done')] });
    const agents = await Promise.all([0, 1, 2].map((pin) => runtime.spawn(researcher, { id: `shared-${pin}`, pin, args: local(model.baseURL) })));
    expect(new Set(agents.map((a) => a.node))).toEqual(new Set([0, 1, 2]));
    const before = (await runtime.ask({ id: GOVERNOR_ID, kind: 'troupe.quota-governor', node: 0 }, 'stats', undefined)) as { granted: number; settled: number };
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(agents.map((a) => runtime.ask(a, 'run', { task: `round ${round}` }, { timeoutMs: 20_000 })));
      expect(results.map((r) => r.text)).toEqual(['done', 'done', 'done']);
    }
    const after = (await runtime.ask({ id: GOVERNOR_ID, kind: 'troupe.quota-governor', node: 0 }, 'stats', undefined)) as { granted: number; settled: number };
    // Six requests reached the model server, from three threads; the one governor granted and settled all six.
    expect(model.log.messages.length).toBe(6);
    expect(after.granted - before.granted).toBe(6);
    expect(after.settled - before.settled).toBe(6);
  });
});
