import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { OpsMetrics } from '../../ops/metrics.ts';
import { codeWorker, coder, dictionary, dispatcher, metered, researcher } from './fixtures/team.ts';
import { agentMeter, MAX_AGENT_SERIES, METER_ID, OTHER_AGENT, type MeterEntry, type MeterSample } from '../../agents/meter.ts';
import { defineAgent } from '../../agents/index.ts';
import { setup } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });

/** The value of one series in a text exposition (NaN when absent). */
function value(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    const got = inner.split(',');
    if (want.length === got.length && want.every((w) => got.includes(w))) return Number(line.slice(line.indexOf('}') + 2));
  }
  return NaN;
}

describe('agent metrics: failure classes, tokens, cost, runs and handoffs per agent kind', { timeout: 60_000 }, () => {
  it('a 429 waited out, a crashed run, a handoff: counted by class and outcome, tokens and cost by kind and model', async () => {
    let coderCalls = 0;
    const { runtime, model } = await setup({
      rules: [
        rules.onRequest(1, { error: 'rate_limit', retryAfterS: 1 }),
        rules.when((v) => v.request.system === 'You do code.' && coderCalls++ === 0, { error: 'api_error' }),
        rules.when((v) => v.request.system === 'You are a dispatcher.', { toolUse: { name: 'handoff', input: { capability: 'coding', objective: 'o', progress: 'p', nextSteps: ['n'] } } }),
        rules.answer('ok'),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict' });
    const r = await runtime.spawn(researcher, { id: 'r1', pin: 1, args: local(model.baseURL) });
    const c = await runtime.spawn(codeWorker, { id: 'c1', pin: 2, args: local(model.baseURL) });
    const d = await runtime.spawn(dispatcher, { id: 'd1', pin: 1, args: local(model.baseURL) });
    await runtime.spawn(coder, { id: 'k1', pin: 2, args: local(model.baseURL) });
    expect((await runtime.ask(r, 'run', { task: 'wait for it' }, { timeoutMs: 20_000 })).failures).toEqual({ 'rate-limited': 1 });
    const crash = await runtime.ask(c, 'run', { task: 'crash' }, { timeoutMs: 20_000 }).catch((e: Error & { cause?: { code?: string } }) => e.cause?.code);
    expect(crash).toBe('ERR_MODEL_UNAVAILABLE');
    expect((await runtime.ask(d, 'run', { task: 'hand it on' }, { timeoutMs: 20_000 })).stopReason).toBe('handoff');

    const metrics = new OpsMetrics(runtime);
    try {
      // the meter hears of runs by tells: wait until the last one is in
      let text = '';
      for (let i = 0; i < 200; i++) {
        text = await metrics.scrape();
        if (value(text, 'troupe_agent_runs_total', { kind: 'test.coder', outcome: 'completed' }) === 1) break;
        await new Promise((res) => setTimeout(res, 25));
      }
      const f = (kind: string, c: string) => value(text, 'troupe_agent_failures_total', { kind, class: c });
      expect(f('test.researcher', 'rate-limited')).toBe(1);
      expect(f('test.researcher', 'transient')).toBe(0); // every class has a series once a kind reported
      expect(f('test.researchr', 'transient')).toBeNaN();
      expect(f('test.code-worker', 'transient')).toBe(1); // the crashed run's failure: counted although its state rolled back
      expect(value(text, 'troupe_agent_runs_total', { kind: 'test.code-worker', outcome: 'failed' })).toBe(1);
      expect(value(text, 'troupe_agent_runs_total', { kind: 'test.researcher', outcome: 'completed' })).toBe(1);
      expect(value(text, 'troupe_agent_runs_total', { kind: 'test.dispatcher', outcome: 'handed_off' })).toBe(1);
      expect(value(text, 'troupe_agent_handoffs_total', { kind: 'test.dispatcher', outcome: 'sent' })).toBe(1);
      expect(value(text, 'troupe_agent_handoffs_total', { kind: 'test.coder', outcome: 'received' })).toBe(1);
      const stats = await runtime.ask(r, 'stats');
      const m = stats.byModel['claude-opus-4-5'];
      expect(value(text, 'troupe_agent_tokens_total', { kind: 'test.researcher', model: 'claude-opus-4-5', type: 'input' })).toBe(m.input);
      expect(value(text, 'troupe_agent_tokens_total', { kind: 'test.researcher', model: 'claude-opus-4-5', type: 'output' })).toBe(m.output);
      expect(value(text, 'troupe_agent_cost_usd_total', { kind: 'test.researcher', model: 'claude-opus-4-5' })).toBeCloseTo(m.costUsd, 12);
      expect(value(text, 'troupe_agent_turns_total', { kind: 'test.coder', model: 'claude-haiku-4-5' })).toBe(1);
      expect(text).not.toMatch(/troupe_agent_\w+\{[^}]*(?:id|agent)="/); // no per-id labels: no kind here opted in
      // model-call durations (gen_ai.client.operation.duration): one observation per answered call
      expect(value(text, 'troupe_agent_operation_duration_seconds_count', { kind: 'test.researcher', model: 'claude-opus-4-5' })).toBe(stats.turns);
      expect(value(text, 'troupe_agent_operation_duration_seconds_bucket', { kind: 'test.researcher', model: 'claude-opus-4-5', le: '+Inf' })).toBe(stats.turns);
      expect(value(text, 'troupe_agent_operation_duration_seconds_sum', { kind: 'test.researcher', model: 'claude-opus-4-5' })).toBeGreaterThan(0);
    } finally {
      metrics.close();
    }
  });
});

/** The meter's entries (the meter hears of runs by tells: wait until `ready` holds). */
async function meterUntil(runtime: { lookup(id: string): Promise<unknown>; ask(...a: unknown[]): Promise<unknown> }, ready: (e: MeterEntry[]) => boolean): Promise<MeterEntry[]> {
  for (let i = 0; i < 400; i++) {
    const ref = await runtime.lookup(METER_ID);
    const entries = ref ? ((await runtime.ask(ref, 'read')) as MeterEntry[]) : [];
    if (ready(entries)) return entries;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('the meter never got there');
}

describe('agent metrics by agent id (opt-in, bounded)', { timeout: 60_000 }, () => {
  it('a kind that opts in has tokens and cost by agent id, equal to each agent\'s stats; the others have none', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer((v) => `answer to ${v.task}`)] });
    const a = await runtime.spawn(metered, { id: 'm-a', pin: 1, args: local(model.baseURL) });
    const b = await runtime.spawn(metered, { id: 'm-b', pin: 2, args: local(model.baseURL) });
    await runtime.spawn(dictionary, { id: 'dict' });
    const r = await runtime.spawn(researcher, { id: 'r1', args: local(model.baseURL) });
    await runtime.ask(a, 'run', { task: 'one' }, { timeoutMs: 20_000 });
    await runtime.ask(a, 'run', { task: 'two, longer' }, { timeoutMs: 20_000 });
    await runtime.ask(b, 'run', { task: 'three' }, { timeoutMs: 20_000 });
    await runtime.ask(r, 'run', { task: 'four' }, { timeoutMs: 20_000 });
    const metrics = new OpsMetrics(runtime);
    try {
      let text = '';
      for (let i = 0; i < 200; i++) {
        text = await metrics.scrape();
        if (value(text, 'troupe_agent_runs_total', { kind: 'test.metered', outcome: 'completed' }) === 3 && value(text, 'troupe_agent_runs_total', { kind: 'test.researcher', outcome: 'completed' }) === 1) break;
        await new Promise((res) => setTimeout(res, 25));
      }
      for (const [id, ref] of [['m-a', a], ['m-b', b]] as const) {
        const m = (await runtime.ask(ref, 'stats')).byModel['claude-haiku-4-5'];
        expect(value(text, 'troupe_agent_by_id_tokens_total', { kind: 'test.metered', agent: id, model: 'claude-haiku-4-5', type: 'input' })).toBe(m.input);
        expect(value(text, 'troupe_agent_by_id_tokens_total', { kind: 'test.metered', agent: id, model: 'claude-haiku-4-5', type: 'output' })).toBe(m.output);
        expect(value(text, 'troupe_agent_by_id_cost_usd_total', { kind: 'test.metered', agent: id, model: 'claude-haiku-4-5' })).toBeCloseTo(m.costUsd, 12);
      }
      expect(text).not.toMatch(/troupe_agent_by_id_\w+\{[^}]*kind="test.researcher"/);
      expect(text).not.toMatch(/troupe_agent_(?!by_id_)\w+\{[^}]*agent="/); // the per-kind families never carry the id
    } finally {
      metrics.close();
    }
  });

  it('keeps at most MAX_AGENT_SERIES ids as labels: later ids are counted as _other, nothing is lost', async () => {
    const { runtime } = await setup({ rules: [] }, { workers: 0, governor: false });
    const meter = await runtime.spawn(agentMeter, { id: METER_ID, pin: 0 });
    const n = MAX_AGENT_SERIES + 7;
    for (let i = 0; i < n; i++) {
      const samples: MeterSample[] = [['agentCost', { kind: 'k', agent: `a${i}`, model: 'm' }, 1], ['cost', { kind: 'k', model: 'm' }, 1]];
      runtime.tell(meter, 'report', samples);
    }
    runtime.tell(meter, 'report', [['agentCost', { kind: 'k', agent: 'a3', model: 'm' }, 1]] as MeterSample[]); // a kept id stays itself
    const entries = await meterUntil(runtime as never, (e) => e.find((x) => x.family === 'cost')?.value === n);
    const byId = entries.filter((e) => e.family === 'agentCost');
    expect(byId.length).toBe(MAX_AGENT_SERIES + 1);
    expect(byId.find((e) => e.labels.agent === OTHER_AGENT)?.value).toBe(7);
    expect(byId.find((e) => e.labels.agent === 'a3')?.value).toBe(2);
    expect(byId.reduce((s, e) => s + e.value, 0)).toBe(n + 1);
  });

  it('a malformed metrics option is a named error at definition', () => {
    expect(() => defineAgent({ kind: 'x', model: 'claude-haiku-4-5', metrics: { perAgent: 'yes' as never } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_AGENT_DEFINITION' }));
    expect(() => defineAgent({ kind: 'x', model: 'claude-haiku-4-5', metrics: 3 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_AGENT_DEFINITION' }));
  });
});
