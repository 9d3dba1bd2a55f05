import { readFileSync } from 'node:fs';
import { ConnectError, InvalidTokenError } from './errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:9464';

/** An error answer from the admin API: its HTTP status and the runtime's error code. */
export class RemoteError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface ClientOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  timeoutMs?: number;
}

/** The admin API over HTTP, for the CLI and scripts. */
export class AdminClient {
  readonly url: string;
  private readonly tokenSource: () => string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    this.url = (options.url ?? env.TROUPE_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokenSource = () => {
      if (options.token !== undefined) return options.token;
      const file = options.tokenFile ?? (env.TROUPE_TOKEN === undefined ? env.TROUPE_TOKEN_FILE : undefined);
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').trim();
        } catch (err) {
          throw new InvalidTokenError(`cannot read the token file ${file}: ${(err as Error).message}`);
        }
      }
      return env.TROUPE_TOKEN;
    };
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.call('GET', path);
  }

  /** A mutating call: it needs the token (InvalidTokenError when there is none). */
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    const token = this.tokenSource();
    if (token === undefined || token === '') {
      throw new InvalidTokenError('this command changes something and needs the admin token: --token, --token-file, TROUPE_TOKEN or TROUPE_TOKEN_FILE');
    }
    return this.call('POST', path, body, token);
  }

  async text(path: string): Promise<string> {
    const res = await this.fetch('GET', path);
    if (!res.ok) throw await remoteError(res);
    return res.text();
  }

  private async call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const res = await this.fetch(method, path, body, token);
    if (!res.ok) throw await remoteError(res);
    return (await res.json()) as T;
  }

  private async fetch(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ConnectError(`cannot reach the Troupe admin API at ${this.url} (${why})`);
    }
  }
}

async function remoteError(res: Response): Promise<RemoteError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    if (body.error !== undefined) return new RemoteError(res.status, body.error.code ?? 'ERR_HTTP', body.error.message ?? text, body.error.details);
  } catch {
    // not JSON: reported as it is
  }
  return new RemoteError(res.status, 'ERR_HTTP', `HTTP ${res.status}: ${text.slice(0, 200)}`);
}
