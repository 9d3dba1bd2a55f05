// Stop reasons handled by name, end to end (real SDK, local server, agents on worker threads): max_tokens and
// pause_turn continue the answer in a new turn, refusal is ModelRefusalError at once (not retried).
import { describe, expect, it } from 'vitest';
import { rules } from '../../agents/model-server/index.ts';
import { ModelRefusalError } from '../../agents/index.ts';
import { dictionary, researcher } from './fixtures/team.ts';
import { setup } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });

describe('stop reasons, end to end', { timeout: 60_000 }, () => {
  it('max_tokens: the answer is continued in a new turn and joined; pause_turn: the paused turn goes on', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.onRequest(1, { text: 'the first half, ', stopReason: 'max_tokens' }),
        rules.onRequest(2, { text: 'paused...', stopReason: 'pause_turn' }),
        rules.answer('the second half'),
      ],
    });
    const agent = await runtime.spawn(researcher, { id: 'long', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'say it all' }, { timeoutMs: 20_000 });
    expect(result.stopReason).toBe('end_turn');
    expect(result.text).toBe('the first half, the second half');
    expect(model.log.messages.length).toBe(3);
    const conv = JSON.stringify(await runtime.ask(agent, 'conversation'));
    expect(conv).toContain('Continue exactly where you stopped.'); // after max_tokens
    expect(conv).toContain('paused...'); // the paused assistant message went back as it was
  });

  it('model_context_window_exceeded: the conversation is compacted and the answer continued', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.turn < 3, (v) => ({ toolUse: { name: 'define', input: { word: 'x'.repeat(600) + v.index } } })),
        rules.onRequest(4, { text: 'cut off by the window', stopReason: 'model_context_window_exceeded' }),
        rules.answer((v) => `after compaction: ${v.request.messages.length} messages`),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const agent = await runtime.spawn(researcher, { id: 'wide', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(agent, 'run', { task: 'define three long words' }, { timeoutMs: 20_000 });
    expect(result.stopReason).toBe('end_turn');
    expect(result.compactions).toBe(1);
    expect(model.log.messages.length).toBe(5);
    expect(model.log.messages[4]!.inputTokens).toBeLessThan(model.log.messages[3]!.inputTokens); // compacted
    expect(JSON.stringify((await runtime.ask(agent, 'conversation'))[0])).toContain('define three long words'); // the task is kept
  });

  it('model_context_window_exceeded with nothing left to drop: ContextWindowExceededError by name', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer('unused')] });
    model.setRules([() => ({ text: 'cut off', stopReason: 'model_context_window_exceeded' })]);
    const agent = await runtime.spawn(researcher, { id: 'narrow', pin: 1, args: local(model.baseURL) });
    const err = await runtime.ask(agent, 'run', { task: 'too big already' }, { timeoutMs: 20_000 }).catch((e) => e);
    expect((err.code === 'ERR_CONTEXT_WINDOW_EXCEEDED' ? err : err.cause).code).toBe('ERR_CONTEXT_WINDOW_EXCEEDED');
  });

  it('refusal: ModelRefusalError at once, one request, no retry', async () => {
    const { runtime, model } = await setup({ rules: [rules.answer('unused')] });
    model.setRules([() => ({ text: '', stopReason: 'refusal' })]);
    const agent = await runtime.spawn(researcher, { id: 'prude', pin: 1, args: local(model.baseURL) });
    const err = await runtime.ask(agent, 'run', { task: 'something it will not do' }, { timeoutMs: 20_000 }).catch((e) => e);
    const named = err instanceof ModelRefusalError ? err : err.cause;
    expect(named).toBeInstanceOf(ModelRefusalError);
    expect(named.code).toBe('ERR_MODEL_REFUSAL');
    expect(model.log.messages.length).toBe(1);
    model.setRules([rules.answer('fine')]); // the agent is still there for the next task
    expect((await runtime.ask(agent, 'run', { task: 'something else' }, { timeoutMs: 20_000 })).text).toBe('fine');
  });
});
