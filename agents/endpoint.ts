/**
 * Which Messages API an agent talks to. With ANTHROPIC_API_KEY set: the real API. Without: the local model
 * server, found at `baseURL` (spawn args) or TROUPE_MODEL_BASE_URL. `mode: 'anthropic'` insists on the real API
 * and is a named error at start when the key is missing. Keys are read from the environment of the agent's
 * thread, never stored in state (state is written to disk).
 */
import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { InvalidAgentDefinitionError, MissingApiKeyError } from './errors.ts';
import { sdkModelClient, standInFor, type ModelClient } from './model-client.ts';

export interface EndpointOptions {
  /** 'auto' (default): the real API when ANTHROPIC_API_KEY is set, else the local server. */
  mode?: 'auto' | 'anthropic' | 'local';
  /** The local server's base URL (default: TROUPE_MODEL_BASE_URL). */
  baseURL?: string;
  /** Environment variable holding the key (default ANTHROPIC_API_KEY; for the local server, TROUPE_LOCAL_API_KEY or 'local'). */
  apiKeyEnv?: string;
  /** Per-request timeout of the HTTP call (default 600 s, as the SDK). */
  timeoutMs?: number;
  /**
   * The SDK's own retries (default 0: the agent and the governor own retries, so attempts never multiply). Only
   * for comparison (the goodput bench's baseline).
   */
  sdkRetries?: number;
}

export interface Endpoint {
  mode: 'anthropic' | 'local';
  baseURL: string | undefined;
  /** A name for the key that is safe to log and to send between threads (the quota governor's budget key). */
  keyId: string;
  timeoutMs: number;
  envVar: string | undefined;
  sdkRetries: number;
}

export function resolveEndpoint(o: EndpointOptions = {}, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const mode = o.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'anthropic' && mode !== 'local') throw new InvalidAgentDefinitionError(`endpoint mode must be 'auto', 'anthropic' or 'local', not ${String(mode)}`);
  const realKey = env[o.apiKeyEnv ?? 'ANTHROPIC_API_KEY'];
  const timeoutMs = o.timeoutMs ?? 600_000;
  if (mode === 'anthropic' || (mode === 'auto' && realKey && !o.baseURL)) {
    if (!realKey) throw new MissingApiKeyError(`the real Messages API was asked for but ${o.apiKeyEnv ?? 'ANTHROPIC_API_KEY'} is not set`);
    return { mode: 'anthropic', baseURL: undefined, keyId: keyName('anthropic', realKey), timeoutMs, envVar: o.apiKeyEnv ?? 'ANTHROPIC_API_KEY', sdkRetries: o.sdkRetries ?? 0 };
  }
  const baseURL = o.baseURL ?? env.TROUPE_MODEL_BASE_URL;
  if (!baseURL) throw new InvalidAgentDefinitionError('no ANTHROPIC_API_KEY and no local model server: pass baseURL (startModelServer().baseURL) or set TROUPE_MODEL_BASE_URL');
  const envVar = o.apiKeyEnv ?? 'TROUPE_LOCAL_API_KEY';
  return { mode: 'local', baseURL, keyId: keyName(baseURL, env[envVar] ?? 'local'), timeoutMs, envVar, sdkRetries: o.sdkRetries ?? 0 };
}

function keyName(where: string, key: string): string {
  return `${where}#${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

const clients = new Map<string, ModelClient>();

/**
 * One SDK client per endpoint per thread, with maxRetries 0 (unless sdkRetries): the agent and its governor own
 * retries. A stand-in registered for the endpoint's base URL (model-client.ts) answers instead.
 */
export function clientFor(e: Endpoint): ModelClient {
  const standIn = standInFor(e.baseURL);
  if (standIn) return standIn;
  const id = `${e.mode}|${e.baseURL}|${e.keyId}|${e.timeoutMs}|${e.sdkRetries}`;
  let c = clients.get(id);
  if (!c) {
    const apiKey = (e.envVar && process.env[e.envVar]) || (e.mode === 'local' ? 'local' : undefined);
    if (!apiKey) throw new MissingApiKeyError(`${e.envVar} is not set on this thread`);
    c = sdkModelClient(new Anthropic({ apiKey, baseURL: e.baseURL, maxRetries: e.sdkRetries ?? 0, timeout: e.timeoutMs }));
    clients.set(id, c);
  }
  return c;
}
