import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../agents/policy/backoff.ts';
import { classifyFailure } from '../../agents/policy/classify.ts';
import { compactConversation, taskBlocks, type Block, type ConvMessage } from '../../agents/policy/compaction.ts';
import { QuotaPolicy } from '../../agents/policy/quota.ts';
import { decideRecovery, onStopReason } from '../../agents/policy/recovery.ts';
import { TokenBucket } from '../../agents/policy/token-bucket.ts';
import { InvalidQuotaError } from '../../agents/errors.ts';
import { estimateInputTokens, PromptSizer } from '../../agents/tokens.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 100);
const apiError = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  APIError.generate(status, { type: 'error', error: { type, message } }, undefined, new Headers(headers));

describe('failure classification', () => {
  it('classifies SDK errors and stream error events by class', () => {
    const r = classifyFailure(apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': '120' }));
    expect(r).toMatchObject({ class: 'rate-limited', retryAfterMs: 120_000 });
    expect(classifyFailure(apiError(529, 'overloaded_error', 'Overloaded')).class).toBe('overloaded');
    const inStream = new APIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, new Headers(), 'overloaded_error');
    expect(classifyFailure(inStream).class).toBe('overloaded');
    expect(classifyFailure(apiError(500, 'api_error', 'x')).class).toBe('transient');
    expect(classifyFailure(apiError(503, 'api_error', 'x')).class).toBe('transient');
    expect(classifyFailure(new APIConnectionError({ message: 'reset' })).class).toBe('transient');
    expect(classifyFailure(new APIConnectionTimeoutError()).class).toBe('transient');
    const tooLong = classifyFailure(apiError(400, 'invalid_request_error', 'prompt is too long: 2100 tokens > 2000 maximum'));
    expect(tooLong).toMatchObject({ class: 'context-too-long', promptTokens: 2100, maxTokens: 2000 });
    for (const [s, t] of [[400, 'invalid_request_error'], [401, 'authentication_error'], [402, 'billing_error'], [403, 'permission_error'], [404, 'not_found_error']] as const) {
      expect(classifyFailure(apiError(s, t, 'no')).class).toBe('fatal');
    }
    expect(classifyFailure(apiError(429, 'rate_limit_error', 'x', { 'retry-after-ms': '1500' })).retryAfterMs).toBe(1500);
  });

  it('recovery: retry-after is obeyed however long, backoff 1-2-4-8-16 s with jitter, fatal fails at once', () => {
    const c = (sameClass: number, compactions = 0) => ({ sameClass, compactions });
    expect(decideRecovery({ class: 'rate-limited', retryAfterMs: 600_000, message: '' }, c(1), () => 0)).toEqual({ kind: 'wait', delayMs: 600_000, reason: 'retry-after' });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 16000]);
    expect(backoffDelay(3, () => 1)).toBe(5000);
    expect(decideRecovery({ class: 'transient', message: '' }, c(5), () => 0)).toEqual({ kind: 'wait', delayMs: 16000, reason: 'backoff' });
    expect(decideRecovery({ class: 'transient', message: '' }, c(6), () => 0)).toEqual({ kind: 'fail', reason: 'retries-exhausted' });
    expect(decideRecovery({ class: 'fatal', message: '' }, c(1), () => 0)).toEqual({ kind: 'fail', reason: 'fatal' });
    expect(decideRecovery({ class: 'context-too-long', message: '' }, c(1, 0), () => 0)).toEqual({ kind: 'compact' });
    expect(decideRecovery({ class: 'context-too-long', message: '' }, c(1, 2), () => 0)).toEqual({ kind: 'fail', reason: 'context-too-long' });
    expect(decideRecovery({ class: 'overloaded', message: '' }, c(2), () => 0)).toEqual({ kind: 'wait', delayMs: 2000, reason: 'backoff' });
  });

  it('stop reasons are handled by name', () => {
    expect(['end_turn', 'tool_use', 'max_tokens', 'pause_turn', 'refusal', 'model_context_window_exceeded', 'stop_sequence'].map(onStopReason))
      .toEqual(['done', 'run-tools', 'continue', 'continue', 'refused', 'compact', 'done']);
  });
});

/** Largest amount granted inside any window of length w, over a list of (time, amount) grants. */
function maxInWindow(grants: Array<[number, number]>, w: number): number {
  let best = 0;
  for (let i = 0; i < grants.length; i++) {
    let sum = 0;
    for (let j = i; j < grants.length && grants[j][0] - grants[i][0] <= w; j++) sum += grants[j][1];
    best = Math.max(best, sum);
  }
  return best;
}

describe('token buckets and the quota governor (properties)', () => {
  it('a bucket never grants more than capacity + rate * W over any window W', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 })), { maxLength: 200 }), fc.integer({ min: 1, max: 120_000 }), (limit, ops, w) => {
        const b = TokenBucket.perMinute(limit, 0);
        let t = 0;
        const grants: Array<[number, number]> = [];
        for (const [dt, n] of ops) {
          t += dt;
          if (b.tryTake(n, t)) grants.push([t, Math.min(n, limit)]);
        }
        return maxInWindow(grants, w) <= limit + (limit / 60_000) * w + 1e-6;
      }),
      { numRuns: runs },
    );
  });

  it('the governor keeps granted requests and input tokens within the limits over any window, with usage corrections', () => {
    const limits = { requestsPerMinute: 60, inputTokensPerMinute: 6000, outputTokensPerMinute: 6000 };
    fc.assert(
      fc.property(fc.array(fc.record({ who: fc.integer({ min: 0, max: 4 }), dt: fc.integer({ min: 0, max: 2000 }), input: fc.integer({ min: 1, max: 2000 }), prio: fc.integer({ min: 0, max: 3 }) }), { maxLength: 300 }), fc.integer({ min: 1000, max: 120_000 }), (ops, w) => {
        const q = new QuotaPolicy({ limits: { default: limits } });
        let t = 0;
        const req: Array<[number, number]> = [];
        const inp: Array<[number, number]> = [];
        for (const op of ops) {
          t += op.dt;
          const d = q.request({ requester: `a${op.who}`, key: 'k', inputTokens: op.input, maxTokens: 100, priority: op.prio }, t);
          if (d.granted) {
            req.push([t, 1]);
            inp.push([t, op.input]);
            q.settle(d.permit, { input_tokens: op.input, output_tokens: 50 }, t);
          }
        }
        return maxInWindow(req, w) <= 60 + w / 1000 + 1e-6 && maxInWindow(inp, w) <= 6000 + w / 10 + 1e-6;
      }),
      { numRuns: runs },
    );
  });

  it('a low-priority agent is not starved by busy high-priority ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), (busy, prio) => {
        const q = new QuotaPolicy({ limits: { default: { requestsPerMinute: 60, inputTokensPerMinute: 1e6, outputTokensPerMinute: 1e6 } }, agingMs: 1000 });
        // Everyone polls every 100 ms; the busy agents ask again at once after each grant.
        for (let t = 0; t < 120_000; t += 100) {
          for (let i = 0; i < busy; i++) q.request({ requester: `busy${i}`, key: 'k', inputTokens: 10, maxTokens: 10, priority: prio }, t);
          if (q.request({ requester: 'meek', key: 'k', inputTokens: 10, maxTokens: 10, priority: 0 }, t).granted) return true;
        }
        return false;
      }),
      { numRuns: Math.min(runs, 30) },
    );
  });

  it('429 blocks the key for its retry-after; headers clamp the buckets; bad limits are named errors', () => {
    const q = new QuotaPolicy({ limits: { default: { requestsPerMinute: 100, inputTokensPerMinute: 1000, outputTokensPerMinute: 1000 } } });
    q.blockKey('k', 5000, 0);
    expect(q.request({ requester: 'a', key: 'k', inputTokens: 1, maxTokens: 1 }, 10)).toEqual({ granted: false, waitMs: 1000 });
    expect(q.request({ requester: 'a', key: 'k', inputTokens: 1, maxTokens: 1 }, 5001).granted).toBe(true);
    q.resync('k', { 'anthropic-ratelimit-input-tokens-remaining': '3' }, 5001);
    expect(q.available('k', 5001).input).toBe(3);
    expect(() => new QuotaPolicy({ limits: { default: { requestsPerMinute: 0, inputTokensPerMinute: 1, outputTokensPerMinute: 1 } } })).toThrow(InvalidQuotaError);
    expect(() => new QuotaPolicy({ limits: {} }).request({ requester: 'a', key: 'x', inputTokens: 1, maxTokens: 1 }, 0)).toThrow(InvalidQuotaError);
  });
});

const textArb = fc.string({ minLength: 0, maxLength: 200 });
const exchangeArb = fc.tuple(textArb, fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ minLength: 0, maxLength: 2000 })), { maxLength: 3 }));
function conversation(task: string, exchanges: Array<[string, Array<[string, string]>]>): ConvMessage[] {
  const ms: ConvMessage[] = [{ role: 'user', content: task }];
  exchanges.forEach(([said, calls], i) => {
    const uses: Block[] = calls.map(([name, _], j) => ({ type: 'tool_use', id: `t${i}_${j}`, name, input: {} }));
    ms.push({ role: 'assistant', content: [{ type: 'text', text: said }, ...uses] });
    const results: Block[] = calls.map(([_, out], j) => ({ type: 'tool_result', tool_use_id: `t${i}_${j}`, content: out }));
    ms.push({ role: 'user', content: results.length ? results : [{ type: 'text', text: 'continue' }] });
  });
  return ms;
}

describe('compaction (properties)', () => {
  it('keeps the task, fits the budget, never splits a tool_use from its tool_result', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.array(exchangeArb, { maxLength: 12 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 6 }), (task, exchanges, frac, keepRecent) => {
        const messages = conversation(task, exchanges);
        const system = 'You are careful.';
        const full = estimateInputTokens({ system, messages });
        const budget = Math.max(1, Math.floor(full * frac));
        const r = compactConversation({ system, messages, budgetTokens: budget, keepRecent });
        if (!r.ok) return r.tokens > budget;
        if (r.tokens > budget || estimateInputTokens({ system, messages: r.messages }) > budget) return false;
        // the task is kept as it was
        expect(taskBlocks(r.messages[0])).toEqual(taskBlocks(messages[0]));
        // roles alternate, starting with the user
        r.messages.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
        // every tool_use has its result in the next message, every result follows its tool_use
        for (let i = 0; i < r.messages.length; i++) {
          const m = r.messages[i];
          if (!Array.isArray(m.content)) continue;
          for (const b of m.content) {
            if (b.type === 'tool_use') {
              const next = r.messages[i + 1]?.content;
              expect(Array.isArray(next) && next.some((x) => x.type === 'tool_result' && x.tool_use_id === b.id)).toBe(true);
            }
            if (b.type === 'tool_result') {
              const prev = r.messages[i - 1]?.content;
              expect(Array.isArray(prev) && prev.some((x) => x.type === 'tool_use' && x.id === b.tool_use_id)).toBe(true);
            }
          }
        }
        if (full <= budget) expect(r.messages).toEqual(messages);
        return true;
      }),
      { numRuns: runs },
    );
  });
});

describe('compaction with a summary (pure)', () => {
  const long = (s: string) => s.padEnd(400, '.');
  const conv: ConvMessage[] = [
    { role: 'user', content: 'the task' },
    { role: 'assistant', content: [{ type: 'text', text: long('first thought') }] },
    { role: 'user', content: long('more') },
    { role: 'assistant', content: [{ type: 'text', text: long('second thought') }] },
    { role: 'user', content: long('more again') },
    { role: 'assistant', content: 'recent' },
    { role: 'user', content: 'last' },
  ];
  it('the note carries the summary of the exchanges it covers and the decisions of those beyond them', () => {
    const plain = compactConversation({ messages: conv, budgetTokens: 150, keepRecent: 2 });
    expect(plain.ok && plain.dropped).toBe(2);
    const withSummary = compactConversation({ messages: conv, budgetTokens: 150, keepRecent: 2, summary: { text: 'S', exchanges: 1 } });
    expect(withSummary.ok).toBe(true);
    const note = JSON.stringify(withSummary.ok && withSummary.messages[0]);
    expect(note).toContain('2 earlier exchange(s) were dropped to fit the context window. Summary of them: S Decisions so far: second thought');
    expect(note).not.toContain('first thought');
  });
});

describe('the run\'s prompt sizer (property)', () => {
  it('gives the estimate of the whole prompt after any appends, rewrites and shrinks of the conversation', () => {
    const block = fc.oneof(
      fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 40 }) }),
      fc.record({ type: fc.constant('tool_result'), tool_use_id: fc.string({ maxLength: 8 }), content: fc.string({ maxLength: 40 }), is_error: fc.option(fc.boolean(), { nil: undefined }) }),
    );
    const message = fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.oneof(fc.string({ maxLength: 60 }), fc.array(block, { maxLength: 3 })) });
    const step = fc.oneof(
      fc.record({ op: fc.constant('append' as const), m: message }),
      fc.record({ op: fc.constant('rewrite' as const), keep: fc.nat(6) }), // compaction: a new array of new messages
      fc.record({ op: fc.constant('shrink' as const), by: fc.nat(3) }), // the same array, shorter
    );
    fc.assert(fc.property(fc.option(fc.string({ maxLength: 30 }), { nil: undefined }), fc.array(step, { maxLength: 30 }), (system, steps) => {
      const sizer = new PromptSizer();
      const tools = [{ name: 'echo', input_schema: { type: 'object' } }];
      let messages: unknown[] = [{ role: 'user', content: 'the task' }];
      for (const s of steps) {
        if (s.op === 'append') messages.push(s.m);
        else if (s.op === 'rewrite') messages = messages.slice(-Math.max(1, s.keep)).map((m) => structuredClone(m));
        else messages.length = Math.max(1, messages.length - s.by);
        const body = { system, tools, messages };
        if (sizer.tokens(body) !== estimateInputTokens(body)) return false;
      }
      return true;
    }), { numRuns: runs });
  });
});
