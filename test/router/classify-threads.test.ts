// The retry classification of errors as a caller really receives them: thrown by a handler on a worker thread,
// carried as the ActorCrashedError's cause over the thread boundary.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, classify } from '../../router/policy/retry.ts';
import { ActorCrashedError, UnknownMessageTypeError } from '../../runtime/errors.ts';
import { startRuntime } from '../kernel/helpers.ts';
import { marked } from './fixtures/marked.ts';

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the ask to fail');
}

describe.each([0, 1])('retry classification of real failures, %i workers', (workers) => {
  it('reads the retryable mark of what the handler threw, through the crash cause', async () => {
    const rt = await startRuntime({ workers });
    const ref = await rt.spawn(marked, workers > 0 ? { pin: 1 } : {});
    const refused = await failure(rt.ask(ref, 'refuse'));
    expect(refused).toBeInstanceOf(ActorCrashedError);
    expect(((refused as Error).cause as { retryable?: boolean }).retryable).toBe(false);
    expect(classify(DEFAULT_RETRY_POLICY, refused)).toBe('fail');
    expect(classify(DEFAULT_RETRY_POLICY, await failure(rt.ask(ref, 'quota')))).toBe('fail');
    expect(classify(DEFAULT_RETRY_POLICY, await failure(rt.ask(ref, 'crash')))).toBe('retry');
    const unknown = await failure(rt.ask(ref, 'nope' as 'crash'));
    expect(unknown).toBeInstanceOf(UnknownMessageTypeError);
    expect(classify(DEFAULT_RETRY_POLICY, unknown)).toBe('fail');
  });
});
