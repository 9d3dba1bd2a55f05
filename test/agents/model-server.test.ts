import Anthropic, { BadRequestError, InternalServerError, RateLimitError, AuthenticationError, APIError, APIConnectionError } from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { rules, startModelServer, type ModelServer } from '../../agents/model-server/index.ts';
import { InvalidScriptError } from '../../agents/errors.ts';

const tools = [{ name: 'lookup', description: 'look a word up', input_schema: { type: 'object' as const, properties: { word: { type: 'string' } }, required: ['word'] } }];
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const client = (s: ModelServer, apiKey = 'test-key') => new Anthropic({ apiKey, baseURL: s.baseURL, maxRetries: 0 });

describe('local Messages API server, through the real SDK', () => {
  it('keeps connections alive: many requests of one SDK client share a connection or two', async () => {
    server = await startModelServer({ rules: [rules.answer('hi')] });
    const c = client(server);
    for (let i = 0; i < 20; i++) await c.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: `q${i}` }] });
    expect(server.log.messages.length).toBe(20);
    expect(server.connections()).toBeLessThanOrEqual(2); // was 20: undici took the 1 s keep-alive hint as none
  });

  it('answers a tool call, then text, non-streaming, with usage, ids and rate-limit headers', async () => {
    server = await startModelServer({ rules: [rules.callTool('lookup', { word: 'actor' }), rules.answer('An actor has a mailbox.')], limits: { requestsPerMinute: 100 } });
    const c = client(server);
    const { data: first, response } = await c.messages.create({ model: 'claude-test', max_tokens: 200, tools, messages: [{ role: 'user', content: 'define actor' }] }).withResponse();
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ type: 'tool_use', name: 'lookup', input: { word: 'actor' } });
    expect(first.usage.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('100');
    expect(Number(response.headers.get('anthropic-ratelimit-requests-remaining'))).toBe(99);
    expect(Date.parse(response.headers.get('anthropic-ratelimit-requests-reset')!)).toBeGreaterThan(0);
    const second = await c.messages.create({
      model: 'claude-test', max_tokens: 200, tools,
      messages: [
        { role: 'user', content: 'define actor' },
        { role: 'assistant', content: first.content as never },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: 'a unit of computation' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'An actor has a mailbox.' });
    expect(server.log.messages.map((e) => e.outcome)).toEqual(['ok', 'ok']);
  });

  it('streams the exact event sequence, text_delta and input_json_delta, and the SDK assembles the message', async () => {
    server = await startModelServer({ rules: [rules.when((v) => v.index === 1, { text: 'hello streaming world, in pieces', }), rules.callTool('lookup', { word: 'stream' })], chunkChars: 5 });
    const c = client(server);
    const events: string[] = [];
    let text = '';
    const s = c.messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    s.on('streamEvent', (e) => events.push(e.type));
    s.on('text', (t) => (text += t));
    const m = await s.finalMessage();
    expect(text).toBe('hello streaming world, in pieces');
    expect(m.content[0]).toMatchObject({ type: 'text', text });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.output_tokens).toBeGreaterThan(1);
    expect(events[0]).toBe('message_start');
    expect(events[1]).toBe('content_block_start');
    expect(events.filter((e) => e === 'content_block_delta').length).toBe(7);
    expect(events.slice(-4)).toEqual(['content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);

    const raw: Array<{ type: string; delta?: { type: string } }> = [];
    const stream = await c.messages.create({ model: 'claude-test', max_tokens: 100, tools, stream: true, messages: [{ role: 'user', content: 'look' }] });
    for await (const e of stream) raw.push(e as never);
    expect(raw.filter((e) => e.type === 'content_block_delta').every((e) => e.delta?.type === 'input_json_delta')).toBe(true);
    const delta = raw.find((e) => e.type === 'message_delta') as unknown as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    expect(delta.delta.stop_reason).toBe('tool_use');
    const assembled = await c.messages.stream({ model: 'claude-test', max_tokens: 100, tools, messages: [{ role: 'user', content: 'look' }] }).finalMessage();
    expect(assembled.content.find((b) => b.type === 'tool_use')).toMatchObject({ input: { word: 'stream' } });
  });

  it('errors arrive as the SDK classes: 429 with retry-after, 529, 5xx, prompt too long, auth, overloaded inside a stream', async () => {
    server = await startModelServer({
      rules: [
        rules.onRequest(1, { error: 'rate_limit', retryAfterS: 2 }),
        rules.onRequest(2, { error: 'overloaded' }),
        rules.onRequest(3, { error: 'api_error', status: 503 }),
        rules.onRequest(4, { error: 'overloaded', inStream: true }),
      ],
      contextWindow: 50,
      apiKeys: ['good'],
    });
    const c = client(server, 'good');
    const req = { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    const e1 = await c.messages.create(req).catch((e) => e);
    expect(e1).toBeInstanceOf(RateLimitError);
    expect(e1.headers.get('retry-after')).toBe('2');
    expect(e1.type).toBe('rate_limit_error');
    const e2 = await c.messages.create(req).catch((e) => e);
    expect(e2).toBeInstanceOf(InternalServerError);
    expect(e2.status).toBe(529);
    expect(e2.type).toBe('overloaded_error');
    const e3 = await c.messages.create(req).catch((e) => e);
    expect(e3).toBeInstanceOf(InternalServerError);
    expect(e3.status).toBe(503);
    const e4 = await c.messages.stream(req).finalMessage().catch((e) => e);
    expect(e4).toBeInstanceOf(APIError);
    expect(e4.status).toBeUndefined();
    expect(e4.type).toBe('overloaded_error');
    const long = await c.messages.create({ ...req, messages: [{ role: 'user', content: 'y'.repeat(400) }] }).catch((e) => e);
    expect(long).toBeInstanceOf(BadRequestError);
    expect(long.message).toMatch(/prompt is too long: \d+ tokens > 50 maximum/);
    const auth = await client(server, 'bad').messages.create(req).catch((e) => e);
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect(server.log.countByOutcome()).toMatchObject({ rate_limit_error: 1, overloaded_error: 2, api_error: 1, invalid_request_error: 1 });
  });

  it('enforces its own token-bucket limits with a 429 and retry-after, and counts tokens', async () => {
    server = await startModelServer({ limits: { requestsPerMinute: 2 } });
    const c = client(server);
    const req = { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    await c.messages.create(req);
    await c.messages.create(req);
    const e = await c.messages.create(req).catch((x) => x);
    expect(e).toBeInstanceOf(RateLimitError);
    expect(Number(e.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const count = await c.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'z'.repeat(40) }] });
    expect(count.input_tokens).toBeGreaterThanOrEqual(10);
  });

  it('a hang-up is a connection error; the log counts each prompt', async () => {
    server = await startModelServer({ rules: [rules.onRequest(1, { hangUp: true })] });
    const c = client(server);
    const req = { model: 'claude-test', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    expect(await c.messages.create(req).catch((e) => e)).toBeInstanceOf(APIConnectionError);
    await c.messages.create(req);
    const [digest] = [...server.log.requestsByPrompt().keys()];
    expect(server.log.requestsByPrompt().get(digest)).toBe(2);
    expect(server.log.completedByPrompt().get(digest)).toBe(1);
  });

  it('count_tokens answers the input tokens of a request, and is not a message request in the log', async () => {
    server = await startModelServer({ rules: [rules.answer('hi')] });
    const c = client(server);
    const short = await c.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] });
    const long = await c.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi '.repeat(400) }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
    expect(server.log.messages.length).toBe(0);
    const counted = await c.messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'hi '.repeat(400) }], tools });
    expect(counted.input_tokens).toBeGreaterThan(long.input_tokens); // tools count too
  });

  it('rejects a malformed script with a named error', async () => {
    await expect(startModelServer({ rules: ['nope' as never] })).rejects.toBeInstanceOf(InvalidScriptError);
    await expect(startModelServer({ limits: { requestsPerMinute: -1 } })).rejects.toBeInstanceOf(InvalidScriptError);
  });
});
