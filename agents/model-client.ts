/**
 * The one thing an agent needs of the Messages API: a request, answered with the message (or its raw stream events)
 * and the response's headers. The default and what ships is the @anthropic-ai/sdk client (endpoint.ts, clientFor);
 * a stand-in registered for a base URL (`useModelClient`) answers instead for the agents on this thread whose
 * endpoint has that base URL: troupe/testkit's simulated model, which answers in virtual time and from a fault plan.
 * A stand-in fails as the SDK does (an error with `status`, `headers` and the API's error body), so failures are
 * classified the same way (policy/classify.ts).
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ModelRequestBody } from './model-call.ts';

/** Who asks, for a stand-in that scripts per agent or times out as the SDK would. */
export interface ModelRequestMeta {
  /** The asking agent's actor id. */
  agent: string;
  /** The endpoint's per-request timeout (EndpointOptions.timeoutMs). */
  timeoutMs: number;
  /** Wait on the asking agent's runtime clock (a stand-in's latency and timeouts: virtual time in simulation). */
  sleep(ms: number): Promise<unknown>;
}

export interface ModelClient {
  /**
   * `stream` false: `data` is the Message. true: `data` is an async iterable of the raw stream events (an `error`
   * event inside a 200, as the SDK does it, throws from the iteration).
   */
  create(body: ModelRequestBody & { stream: boolean }, meta: ModelRequestMeta): Promise<{ data: unknown; headers: Headers | undefined }>;
}

/** The SDK's client behind the interface (what every agent uses unless a stand-in is registered). */
export function sdkModelClient(sdk: Anthropic): ModelClient {
  return {
    async create(body) {
      const { data, response } = await sdk.messages.create(body as never).withResponse();
      return { data, headers: response.headers };
    },
  };
}

const standIns = new Map<string, ModelClient>();

/**
 * Answer the requests of this thread's agents whose endpoint `baseURL` is this one with `client` (a test's stand-in);
 * returns the function that takes it away again.
 */
export function useModelClient(baseURL: string, client: ModelClient): () => void {
  standIns.set(baseURL, client);
  return () => {
    if (standIns.get(baseURL) === client) standIns.delete(baseURL);
  };
}

export function standInFor(baseURL: string | undefined): ModelClient | undefined {
  return baseURL === undefined || standIns.size === 0 ? undefined : standIns.get(baseURL);
}
