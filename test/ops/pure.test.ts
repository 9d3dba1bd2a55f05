import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, generateToken, tokenChecker, validateToken, writeTokenFile } from '../../ops/token.ts';
import { MonotonicSum } from '../../ops/monotonic.ts';
import { Names, buildView, diffView, emptyView, snapshotOf } from '../../ops/view-model.ts';
import { normalize, statusFor } from '../../ops/http-errors.ts';
import { InvalidTokenError } from '../../ops/errors.ts';
import { ActorNotFoundError } from '../../runtime/errors.ts';
import { table } from '../../ops/table.ts';
import type { ActorStats } from '../../runtime/stats.ts';
import { KindCounters, MAX_TYPE_LABELS, TIME_EACH_FROM_MS } from '../../runtime/thread-metrics.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 100);

describe('admin token', () => {
  it('accepts exactly the expected token', () => {
    const token = generateToken();
    const check = tokenChecker(token);
    expect(check(token)).toBe(true);
    expect(check(undefined)).toBe(false);
    expect(check('')).toBe(false);
    expect(check(`${token}x`)).toBe(false);
    expect(check(token.slice(0, -1))).toBe(false);
    fc.assert(fc.property(fc.string(), (other) => check(other) === (other === token)), { numRuns: RUNS });
  });

  it('is random and long enough; a weak configured token is refused', () => {
    expect(generateToken()).not.toBe(generateToken());
    expect(generateToken().length).toBeGreaterThanOrEqual(40);
    expect(() => validateToken('short')).toThrow(InvalidTokenError);
    expect(() => validateToken('has a space in it, long enough')).toThrow(InvalidTokenError);
    expect(validateToken('a-long-enough-token-1234')).toBe('a-long-enough-token-1234');
  });

  it('reads only a Bearer authorization header', () => {
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer   abc ')).toBe('abc');
    expect(bearer('Basic abc')).toBeUndefined();
    expect(bearer('Bearer a b')).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
  });

  it('is written readable by the user only, replacing a wider file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-token-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'old\n', { mode: 0o644 });
      writeTokenFile(file, 'the-new-token-0123456789');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').trim()).toBe('the-new-token-0123456789');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MonotonicSum', () => {
  it('carries every counter of a thread whose epoch changed, even one that reads as high as before', () => {
    const m = new MonotonicSum();
    expect(m.sum([[1, 'a', 5], [1, 'b', 1]], new Map([[1, 100]])).get('b')).toBe(1);
    expect(m.sum([[1, 'a', 5], [1, 'b', 1]], new Map([[1, 100]])).get('b')).toBe(1); // same thread: no change
    const replaced = m.sum([[1, 'b', 1]], new Map([[1, 200]])); // replacement: 'a' not seen yet, 'b' counted 1 again
    expect(replaced.get('b')).toBe(2);
    expect(replaced.get('a')).toBe(5);
  });

  it('sums threads per series, carries what a replaced thread counted, keeps a silent thread\'s last value', () => {
    const m = new MonotonicSum();
    expect(m.sum([[1, 'a', 5], [2, 'a', 3], [1, 'b', 1]])).toEqual(new Map([['a', 8], ['b', 1]]));
    // thread 2 replaced: its counter starts again from 0
    expect(m.sum([[1, 'a', 6], [2, 'a', 1], [1, 'b', 1]]).get('a')).toBe(6 + 3 + 1);
    // thread 1 does not answer this scrape
    expect(m.sum([[2, 'a', 2]]).get('a')).toBe(6 + 3 + 2);
  });

  it('never decreases, whatever the per-thread sequences (resets included)', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(1000)), { maxLength: 5 }), { maxLength: 20 }), (scrapes) => {
      const m = new MonotonicSum();
      let prev = 0;
      for (const scrape of scrapes) {
        const total = m.sum(scrape.map(([node, v]) => [node, 's', v] as const)).get('s') ?? 0;
        if (total < prev) return false;
        prev = total;
      }
      return true;
    }), { numRuns: RUNS });
  });
});

describe('view model', () => {
  const stat = (id: string, phase = 'running', depth = 0): ActorStats => ({ id, kind: 'k', node: 1, handled: 0, mailboxDepth: depth, handlingMs: 0, phase, incarnation: 0 });
  it('sends only the rows that changed, the names added and the ids gone', () => {
    const names = new Names();
    const nodes = [{ node: 1, actors: [], actorCount: 2, eventLoopUtilization: 0.5, deadLetters: {}, recentDeadLetters: [], heapUsedBytes: 1 << 20 }];
    const roots = [{ id: 'sup', type: 'supervisor' as const, status: 'running', strategy: 'one-for-one', children: [{ id: 'a', type: 'actor' as const, status: 'running', restarts: 0 }] }];
    const v1 = buildView(roots, nodes, new Map([['a', stat('a')], ['b', stat('b')]]), names);
    const d1 = diffView(emptyView(), v1, names);
    expect(d1.actors.map((r) => r[0]).sort()).toEqual(['a', 'b']);
    expect(d1.names).toEqual(names.list.map((n, i) => [i, n]));
    expect(names.list).toEqual(expect.arrayContaining(['sup', 'k']));
    expect(d1.supervisors).toEqual([['sup', '', 'running', 'one-for-one', 0]]);
    const v2 = buildView(roots, nodes, new Map([['a', stat('a', 'running', 3)]]), names);
    const d2 = diffView(v1, v2, names);
    expect(d2.actors).toEqual([['a', names.of('sup'), names.of('k'), 1, 0, 0, 3, 0, 0]]);
    expect(d2.gone).toEqual(['b']);
    expect(d2.supervisors).toBeUndefined();
    expect(d2.names).toBeUndefined();
    const roots3 = [{ ...roots[0]!, children: [{ id: 'a', type: 'actor' as const, status: 'circuit-open', restarts: 2, circuit: { state: 'open' as const, resetTimeoutMs: 1, trips: 1 } }] }];
    const v3 = buildView(roots3, nodes, new Map([['a', stat('a', 'open', 3)]]), names);
    expect(diffView(v2, v3, names).actors).toEqual([['a', names.of('sup'), names.of('k'), 1, 2, 2, 3, 1, 0]]);
    expect(snapshotOf(v3, names).actors).toHaveLength(1);
  });

  it('numbers every child by its place under its supervisor, nested supervisors included (the page keeps tree order)', () => {
    const names = new Names();
    const leaf = (id: string) => ({ id, type: 'actor' as const, status: 'running', restarts: 0 });
    const sup = (id: string, children: unknown[]) => ({ id, type: 'supervisor' as const, status: 'running', strategy: 'one-for-one', children: children as never[] });
    const roots = [sup('root', [leaf('x'), sup('mid', [sup('deep', [leaf('z')]), leaf('y')]), leaf('w')]), sup('other', [])];
    const v = buildView(roots, [], new Map(), names);
    expect(v.supervisors.map(([id, parent, , , pos]) => [id, parent, pos])).toEqual([['root', '', 0], ['mid', 'root', 1], ['deep', 'mid', 0], ['other', '', 1]]);
    expect([...v.actors.values()].map((r) => [r[0], names.list[r[1]], r[8]])).toEqual([['x', 'root', 0], ['z', 'deep', 0], ['y', 'mid', 1], ['w', 'root', 2]]);
  });
});

describe('handled messages by type (runtime/thread-metrics.ts)', () => {
  it('labels a kind\'s first MAX_TYPE_LABELS handler types and the runtime\'s own; any other type counts as other', () => {
    const handlerTypes = Array.from({ length: MAX_TYPE_LABELS + 8 }, (_, i) => `t${i}`);
    const k = new KindCounters(handlerTypes);
    for (const t of [...handlerTypes, 'no-such-handler', '$stop']) k.handledType(t, 2);
    k.crashedType('t0');
    k.crashedType(`t${MAX_TYPE_LABELS + 3}`);
    const labels = [...k.types.keys()];
    expect(labels).toHaveLength(MAX_TYPE_LABELS + 2);
    expect(labels).toEqual([...handlerTypes.slice(0, MAX_TYPE_LABELS), 'other', '$stop']);
    expect(k.types.get('other')).toEqual({ handled: 2 * 9, crashed: 1 });
    expect(k.types.get('t0')).toEqual({ handled: 2, crashed: 1 });
  });
});

describe('handling time per message (runtime/thread-metrics.ts)', () => {
  it('a slice counts its messages at their mean, all but an async last one, and says whether it was slow', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 512 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.boolean(), (n, ms, asyncLast) => {
      const c = new KindCounters();
      const slow = c.slice(n, ms, asyncLast);
      expect(c.handled).toBe(n);
      expect(c.handling.count).toBe(asyncLast ? n - 1 : n);
      expect(c.handling.sumMs).toBeCloseTo(asyncLast ? ms - ms / n : ms, 9);
      expect(slow).toBe(ms / n >= TIME_EACH_FROM_MS);
      // Timed one by one, the slice only counts them (the cell observed each) and says whether to go on so.
      expect(c.timed(n, ms)).toBe(ms / n >= TIME_EACH_FROM_MS);
      expect(c.handled).toBe(2 * n);
      expect(c.handling.count).toBe(asyncLast ? n - 1 : n);
    }), { numRuns: RUNS });
  });
});

describe('HTTP errors', () => {
  it('map runtime codes and body refusals to statuses', () => {
    expect(statusFor(new ActorNotFoundError('x'))).toBe(404);
    expect(statusFor(new Error('boom'))).toBe(500);
    expect(statusFor(normalize(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })))).toBe(413);
    expect((normalize(Object.assign(new SyntaxError('x'), { statusCode: 400 })) as { code: string }).code).toBe('ERR_INVALID_JSON');
  });
});

describe('table', () => {
  it('pads columns and right-aligns numbers', () => {
    expect(table(['ID', 'N'], [['a', 1], ['bbb', 22]])).toBe('ID    N\na     1\nbbb  22');
  });
});
