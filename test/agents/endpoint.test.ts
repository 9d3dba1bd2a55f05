// Which Messages API an agent talks to (agents/endpoint.ts), and the bad inputs there: named errors at start.
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../agents/endpoint.ts';
import { MissingApiKeyError, startQuotaGovernor } from '../../agents/index.ts';
import { Runtime } from '../../runtime/index.ts';
import { researcher } from './fixtures/team.ts';
import { setup } from './helpers.ts';

describe('the endpoint: the real API with a key, the local server without', () => {
  it('auto: the real API when the key is set (and no baseURL), else the local server; the key is never in the result', () => {
    const real = resolveEndpoint({}, { ANTHROPIC_API_KEY: 'sk-secret' });
    expect(real).toMatchObject({ mode: 'anthropic', baseURL: undefined, envVar: 'ANTHROPIC_API_KEY', sdkRetries: 0 });
    expect(JSON.stringify(real)).not.toContain('sk-secret');
    expect(resolveEndpoint({ baseURL: 'http://127.0.0.1:1' }, { ANTHROPIC_API_KEY: 'sk-secret' })).toMatchObject({ mode: 'local', baseURL: 'http://127.0.0.1:1' });
    expect(resolveEndpoint({}, { TROUPE_MODEL_BASE_URL: 'http://127.0.0.1:2' })).toMatchObject({ mode: 'local', baseURL: 'http://127.0.0.1:2' });
  });

  it('the real API asked for without its key is ERR_MISSING_API_KEY, naming the variable', () => {
    expect(() => resolveEndpoint({ mode: 'anthropic' }, {})).toThrow(MissingApiKeyError);
    expect(() => resolveEndpoint({ mode: 'anthropic', apiKeyEnv: 'MY_KEY' }, { ANTHROPIC_API_KEY: 'other' })).toThrow(expect.objectContaining({ code: 'ERR_MISSING_API_KEY', message: expect.stringContaining('MY_KEY') }));
  });

  it('no key and no local server, or a mode that does not exist: ERR_INVALID_AGENT_DEFINITION', () => {
    expect(() => resolveEndpoint({}, {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_AGENT_DEFINITION' }));
    expect(() => resolveEndpoint({ mode: 'remote' as never }, { ANTHROPIC_API_KEY: 'k' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_AGENT_DEFINITION' }));
  });

  it('an agent spawned for the real API without its key fails the spawn by name, on a worker thread too', { timeout: 60_000 }, async () => {
    const { runtime } = await setup({ rules: [] }, { governor: false });
    const args = { endpoint: { mode: 'anthropic' as const, apiKeyEnv: 'TROUPE_TEST_NO_SUCH_KEY' } };
    await expect(runtime.spawn(researcher, { id: 'keyless', pin: 1, args })).rejects.toMatchObject({ code: 'ERR_MISSING_API_KEY' });
    expect(await runtime.lookup('keyless')).toBeUndefined();
  });
});

describe('the quota governor at start', () => {
  it('bad limits are ERR_INVALID_QUOTA at start, and no governor is left running', async () => {
    const runtime = await Runtime.start({ workers: 0 });
    try {
      const bad = { limits: { default: { requestsPerMinute: -1, inputTokensPerMinute: 1, outputTokensPerMinute: 1 } } };
      await expect(startQuotaGovernor(runtime, bad, { id: 'bad-governor' })).rejects.toMatchObject({ code: 'ERR_INVALID_QUOTA' });
      await expect(startQuotaGovernor(runtime, { limits: { default: { requestsPerMinute: 1 } } } as never, { id: 'bad-governor' })).rejects.toMatchObject({ code: 'ERR_INVALID_QUOTA' });
      expect(await runtime.lookup('bad-governor')).toBeUndefined();
    } finally {
      await runtime.shutdown();
    }
  });
});
