import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { InvalidToolSchemaError, InvalidAgentDefinitionError, MaxTurnsExceededError, ModelRequestRejectedError, UnknownModelPriceError, defineAgent } from '../../agents/index.ts';
import { calculator, collector, dictionary, hasty, librarian, reader, researcher, summarizer, thesaurus } from './fixtures/team.ts';
import { SUMMARY_SYSTEM } from '../../agents/summarize.ts';
import { setup } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });

describe('agents on worker threads, the real SDK against the local server', { timeout: 60_000 }, () => {
  it('runs a multi-turn tool loop: parallel tools, an invalid input and an unknown tool go back as errors, text streams, usage and cost', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.turn === 0, { toolUse: [{ name: 'define', input: { word: 'actor' } }, { name: 'add', input: { a: 2, b: 3 } }] }),
        rules.when((v) => v.turn === 1, { toolUse: [{ name: 'define', input: { word: 42 } }, { name: 'nope', input: {} }] }),
        rules.answer((v) => `final: ${v.toolResults().map((r) => (r.isError ? 'E' : r.content)).join(' / ')}`),
      ],
      chunkChars: 8,
    });
    const dict = await runtime.spawn(dictionary, { id: 'dict', pin: 1 });
    const calc = await runtime.spawn(calculator, { id: 'calc', pin: 2 });
    const events = await runtime.spawn(collector, { pin: 0 });
    const agent = await runtime.spawn(researcher, { id: 'r1', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'define actor, add 2 and 3', notify: events }, { timeoutMs: 20_000 });
    expect(result.turns).toBe(3);
    expect(result.stopReason).toBe('end_turn');
    expect(result.text).toBe('final: actor: a word of 5 letters / {"sum":5} / E / E');
    expect(result.toolCalls).toBe(4);
    expect(result.tokens.input).toBeGreaterThan(0);
    expect(result.tokens.output).toBeGreaterThan(0);
    expect(result.costUsd).toBeCloseTo((result.tokens.input * 5 + result.tokens.output * 25) / 1e6, 12);
    expect(await runtime.ask(dict, 'calls')).toEqual([`r1:1:${((await runtime.ask(agent, 'conversation'))[1].content[0] as { id: string }).id}`]);
    expect(await runtime.ask(calc, 'count')).toBe(1);
    const stats = await runtime.ask(agent, 'stats');
    expect(stats).toMatchObject({ runs: 1, turns: 3, toolCalls: 4, toolErrors: 2 });
    expect(stats.byModel['claude-opus-4-5'].input).toBe(result.tokens.input);
    // the model saw why: schema errors and the unknown tool name
    const conv = await runtime.ask(agent, 'conversation');
    const errs = JSON.stringify(conv[4]);
    expect(errs).toContain('invalid input for tool');
    expect(errs).toContain("unknown tool 'nope'");
    const evs = await runtime.ask(events, 'events');
    expect(evs.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join('')).toBe(result.text);
    expect(evs.filter((e) => e.type === 'progress').map((e) => `${(e as { phase: string }).phase}${(e as { turn: number }).turn}`)).toEqual(['model1', 'tools1', 'model2', 'tools2', 'model3']);
    // the same runId again: answered from state, no new request
    const before = model.log.messages.length;
    const again = await runtime.ask(agent, 'run', { task: 'x', runId: result.runId }, { timeoutMs: 5000 });
    expect(again.text).toBe(result.text);
    expect(model.log.messages.length).toBe(before);
  });

  it('a 429 with retry-after and an overloaded error inside a streamed 200, mid-run: the agent waits and continues the same turn, no crash', async () => {
    const { runtime, model } = await setup({ rules: [rules.onRequest(2, { error: 'rate_limit', retryAfterS: 1 }), rules.onRequest(3, { error: 'overloaded', inStream: true }), rules.callTool('define', { word: 'wait' }), rules.answer('done waiting')] });
    let crashes = 0;
    runtime.onCrash(() => crashes++);
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(researcher, { id: 'r2', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'define wait' }, { timeoutMs: 20_000 });
    expect(result.text).toBe('done waiting');
    expect(result.turns).toBe(2);
    expect(result.failures).toEqual({ 'rate-limited': 1, overloaded: 1 });
    expect(crashes).toBe(0);
    expect(model.log.messages.map((e) => e.outcome)).toEqual(['ok', 'rate_limit_error', 'overloaded_error', 'ok']);
    // the retried requests are the same turn: the same prompt as the one refused
    expect(new Set(model.log.messages.slice(1).map((e) => e.promptDigest)).size).toBe(1);
    // retry-after 1 s was waited (the governor blocked the key for it too), then a backoff of 1-1.25 s
    expect(model.log.messages[2].at - model.log.messages[1].at).toBeGreaterThanOrEqual(900);
    expect(model.log.messages[3].at - model.log.messages[2].at).toBeGreaterThanOrEqual(900);
  });

  it('prompt too long: compaction, then success', async () => {
    let calls = 0; // rules only see admitted requests: a prompt that is too long never reaches them
    const { runtime, model } = await setup({
      contextWindow: 900,
      rules: [
        rules.when(() => calls++ < 3, (v) => ({ toolUse: { name: 'define', input: { word: 'x'.repeat(600) + v.index } } })),
        rules.answer((v) => `answered after ${v.turn} turns, ${v.request.messages.length} messages`),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(researcher, { id: 'r3', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'a long task' }, { timeoutMs: 20_000 });
    expect(result.compactions).toBeGreaterThanOrEqual(1);
    expect(result.failures['context-too-long']).toBeGreaterThanOrEqual(1);
    expect(result.stopReason).toBe('end_turn');
    expect(model.log.messages.some((e) => e.outcome === 'invalid_request_error')).toBe(true);
    expect(model.log.messages.at(-1)!.outcome).toBe('ok');
    const conv = await runtime.ask(agent, 'conversation');
    expect(JSON.stringify(conv[0])).toContain('a long task');
  });

  it('summarising compaction: the dropped exchanges are summarised by a model call, the note carries the summary', async () => {
    let summaries = 0;
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.request.system === SUMMARY_SYSTEM, (v) => ({ text: `SUMMARY#${++summaries} of ${v.lastUserText.split('\n').length - 1} lines` })),
        rules.when((v) => v.toolResults().length + (JSON.stringify(v.request.messages[0]).match(/dropped/) ? 10 : 0) < 4, (v) => ({ toolUse: { name: 'define', input: { word: `w${v.index}`.padEnd(400, 'x') } } })),
        rules.answer((v) => `done: ${JSON.stringify(v.request.messages[0]).includes('Summary of them: SUMMARY#') ? 'the note has the summary' : 'no summary'}`),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(summarizer, { id: 's1', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'define many long words' }, { timeoutMs: 20_000 });
    expect(result.compactions).toBeGreaterThanOrEqual(1);
    expect(summaries).toBeGreaterThanOrEqual(1);
    expect(result.text).toBe('done: the note has the summary');
    const conv = await runtime.ask(agent, 'conversation');
    expect(JSON.stringify(conv[0])).toContain('define many long words'); // the task is kept
    // the summary call's tokens are in the run's usage: more input than the turns' requests alone
    expect(result.turns).toBeLessThan(model.log.messages.filter((e) => e.outcome === 'ok').length);
  });

  it('an authentication error fails at once with a named error, one request, never retried', async () => {
    process.env.TROUPE_TEST_BAD_KEY = 'wrong';
    const { runtime, model } = await setup({ apiKeys: ['right'] });
    const agent = await runtime.spawn(researcher, { id: 'r4', pin: 1, args: { endpoint: { mode: 'local', baseURL: model.baseURL, apiKeyEnv: 'TROUPE_TEST_BAD_KEY' } } });
    const err = await runtime.ask(agent, 'run', { task: 'hello' }, { timeoutMs: 10_000 }).catch((e) => e);
    const named = err instanceof ModelRequestRejectedError ? err : err.cause;
    expect(named).toBeInstanceOf(ModelRequestRejectedError);
    expect(named.code).toBe('ERR_MODEL_REQUEST_REJECTED');
    expect(model.log.messages.length).toBe(0); // refused before the script: the log only has admitted requests
    await new Promise((r) => setTimeout(r, 300));
    expect(model.log.messages.length).toBe(0);
  });

  it('maxTurns: a named error, not an endless loop', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer('never'), rules.when(() => true, { text: '' })], fallback: { text: '' } });
    model.setRules([(v) => ({ toolUse: { name: 'define', input: { word: `w${v.turn}` } } })]);
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(hasty, { id: 'h1', pin: 1, args: local(model.baseURL) });
    const err = await runtime.ask(agent, 'run', { task: 'loop forever' }, { timeoutMs: 10_000 }).catch((e) => e);
    const named = err instanceof MaxTurnsExceededError ? err : err.cause;
    expect(named).toBeInstanceOf(MaxTurnsExceededError);
    expect(model.log.messages.length).toBe(2);
  });

  it('a tool named by capability goes through the router', async () => {
    const { runtime, model } = await setup({ rules: [rules.callTool('synonym', { word: 'fast' }), rules.answer((v) => v.toolResults()[0].content)] }, { workers: 1 });
    await runtime.spawn(thesaurus, { id: 'thes', pin: 1 });
    const agent = await runtime.spawn(librarian, { id: 'lib', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'a synonym of fast' }, { timeoutMs: 20_000 });
    expect(result.text).toBe('fast ~ fast-ish (from thes)');
  });

  it('a tool actor by id that moved to another thread between calls is found again: the call is delivered once', async () => {
    const { runtime, model } = await setup({ rules: [rules.callTool('define', { word: 'moved' }), rules.answer((v) => v.toolResults().map((r) => (r.isError ? `E ${r.content}` : r.content)).join(''))] });
    await runtime.spawn(dictionary, { id: 'dict', pin: 1 });
    const agent = await runtime.spawn(hasty, { id: 'h1', pin: 2, args: local(model.baseURL) });
    expect((await runtime.ask(agent, 'run', { task: 'first' }, { timeoutMs: 20_000 })).text).toBe('moved: a word of 5 letters');
    // the agent's thread remembers where 'dict' was; it stops and starts again on the main thread
    await runtime.stop((await runtime.lookup('dict'))!);
    const moved = await runtime.spawn(dictionary, { id: 'dict', pin: 0 });
    expect((await runtime.ask(agent, 'run', { task: 'second' }, { timeoutMs: 20_000 })).text).toBe('moved: a word of 5 letters');
    expect(await runtime.ask(moved, 'calls')).toHaveLength(1);
  });

  it('a tool_use whose input is not valid JSON (streamed) or not an object (whole) goes back to the model as an error; the run goes on', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.toolResults().length === 0, { toolUse: { name: 'define', rawInput: '{"word": "broken"]' } }),
        rules.answer((v) => v.toolResults().map((r) => `${r.isError ? 'E' : 'ok'}: ${r.content}`).join(' | ')),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict' });
    for (const [def, id] of [[researcher, 'streams'], [hasty, 'whole']] as const) {
      const agent = await runtime.spawn(def as typeof hasty, { id, pin: 1, args: local(model.baseURL) });
      const result = await runtime.ask(agent, 'run', { task: `bad input, ${id}` }, { timeoutMs: 20_000 });
      expect(result.turns).toBe(2);
      expect(result.text).toMatch(/^E: invalid input for tool 'define': /);
      if (id === 'streams') expect(result.text).toContain('not valid JSON');
      if (id === 'streams') expect(result.text).toContain('{"word": "broken"]'); // what the model sent stays in the conversation
      const conv = await runtime.ask(agent, 'conversation');
      expect(conv).toHaveLength(4); // task, the call, its error result, the answer
    }
    expect(await runtime.ask((await runtime.lookup('dict'))!, 'calls')).toEqual([]); // never dispatched
  });

  it('readOnly tools: a durable agent runs them while their response commits; a turn with another tool waits; the journal has every turn', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.toolResults().length === 0, { toolUse: [{ name: 'define', input: { word: 'one' } }, { name: 'define', input: { word: 'two' } }] }),
        rules.when((v) => v.toolResults().length === 2, { toolUse: [{ name: 'define', input: { word: 'three' } }, { name: 'add', input: { a: 1, b: 2 } }] }),
        rules.answer((v) => v.toolResults().map((r) => r.content).join(' | ')),
      ],
    });
    const dict = await runtime.spawn(dictionary, { id: 'dict', pin: 1 });
    await runtime.spawn(calculator, { id: 'calc', pin: 2 });
    const agent = await runtime.spawn(reader, { id: 'reader-1', pin: 2, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'read', runId: 'read-1' }, { timeoutMs: 20_000 });
    expect(result.turns).toBe(3);
    expect(result.text).toBe('one: a word of 3 letters | two: a word of 3 letters | three: a word of 5 letters | {"sum":3}');
    expect(await runtime.ask(dict, 'calls')).toHaveLength(3);
    expect([...model.log.requestsByPrompt().values()]).toEqual([1, 1, 1]);
    // asked again, the run answers from the agent's state: no request
    expect((await runtime.ask(agent, 'run', { task: 'read', runId: 'read-1' }, { timeoutMs: 20_000 })).text).toBe(result.text);
    expect(model.log.messages).toHaveLength(3);
    expect(() => defineAgent({ kind: 'x', model: 'claude-haiku-4-5', tools: [{ name: 't', input_schema: { type: 'object' }, actor: 'a', readOnly: 'yes' as never }], module: import.meta.url })).toThrow(InvalidAgentDefinitionError);
  });

  it('keeps the last 100 results and the last conversation; the journal lets every finished run go', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer((v) => `answer ${v.task}`)] }, { workers: 1 });
    const agent = await runtime.spawn(hasty, { id: 'h1', pin: 1, args: local(model.baseURL) });
    for (let i = 0; i < 120; i++) await runtime.ask(agent, 'run', { task: `t${i}`, runId: `r${i}` }, { timeoutMs: 20_000 });
    expect(await runtime.ask(agent, 'result', 'r0')).toBeUndefined();
    for (let i = 20; i < 120; i++) expect((await runtime.ask(agent, 'result', `r${i}`))?.text).toBe(`answer t${i}`);
    expect(await runtime.ask(agent, 'conversation')).toEqual([{ role: 'user', content: 't119' }, { role: 'assistant', content: [{ type: 'text', text: 'answer t119' }] }]);
    expect((await runtime.ask(agent, 'stats')).runs).toBe(120);
    const journal = (await runtime.lookup('h1~journal'))!;
    expect(await runtime.ask(journal, 'list')).toEqual(['r119']); // told to forget each run at the start of the next
    // asked again: answered from state, no new request
    const before = model.log.messages.length;
    expect((await runtime.ask(agent, 'run', { task: 'x', runId: 'r119' }, { timeoutMs: 5000 })).text).toBe('answer t119');
    expect(model.log.messages.length).toBe(before);
  });

  it('a zod tool schema: the API gets its JSON Schema, input failing it (a refinement too) goes back as an error, valid input reaches the tool', async () => {
    const { zodScribe } = await import('./fixtures/zod-agents.ts');
    let sent: Array<{ name: string; input_schema?: unknown }> | undefined;
    const { runtime, model } = await setup({
      rules: [
        (v) => void (sent ??= v.request.tools), // what the API was sent (answers nothing)
        rules.when((v) => v.turn === 0, { toolUse: [{ name: 'define', input: { word: 'Actor' } }, { name: 'define', input: { word: 7 } }] }),
        rules.when((v) => v.turn === 1, { toolUse: { name: 'define', input: { word: 'actor' } } }),
        rules.answer((v) => v.toolResults().map((r) => (r.isError ? `E(${r.content})` : r.content)).join(' | ')),
      ],
    });
    const dict = await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(zodScribe, { id: 'z1', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'define actor' }, { timeoutMs: 20_000 });
    const [bad, wrongType, good] = result.text.split(' | ');
    expect(bad).toContain('lower case only');
    expect(wrongType).toMatch(/^E\(invalid input for tool 'define': \/word /);
    expect(good).toBe('actor: a word of 5 letters');
    expect(await runtime.ask(dict, 'calls')).toHaveLength(1); // only the valid call reached the tool
    expect(sent?.[0]?.input_schema).toMatchObject({ type: 'object', properties: { word: { type: 'string', minLength: 1 } }, required: ['word'] });
    expect((sent?.[0]?.input_schema as { $schema?: string }).$schema).toBeUndefined();
    expect(model.log.messages).toHaveLength(3);
    const { z } = await import('zod');
    expect(() => defineAgent({ kind: 'x', model: 'claude-haiku-4-5', tools: [{ name: 't', input_schema: z.string() as never, actor: 'a' }], module: import.meta.url })).toThrow(InvalidToolSchemaError);
  });

  it('bad definitions are named errors at definition', () => {
    expect(() => defineAgent({ kind: 'x', model: 'claude-sonnet-4-5', tools: [{ name: 't', input_schema: { type: 'object', properties: { a: { type: 'nonsense' } } }, actor: 'a' }], module: import.meta.url })).toThrow(InvalidToolSchemaError);
    expect(() => defineAgent({ kind: 'x', model: 'claude-sonnet-4-5', tools: [{ name: 't', input_schema: { type: 'object' } }], module: import.meta.url })).toThrow(InvalidAgentDefinitionError);
    expect(() => defineAgent({ kind: 'x', model: 'gpt-unknown', module: import.meta.url })).toThrow(UnknownModelPriceError);
    expect(() => defineAgent({ kind: 'x', model: 'claude-sonnet-4-5', maxTurns: 0, module: import.meta.url })).toThrow(InvalidAgentDefinitionError);
  });
});
