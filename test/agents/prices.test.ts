// The configurable price table (agents/prices.ts): cost by token type, a table of one's own, bad entries by name.
import { describe, expect, it } from 'vitest';
import { costUsd, defaultPrices, defineAgent } from '../../agents/index.ts';
import { priceTable } from '../../agents/prices.ts';

const def = (prices: unknown, model = 'my-model') => () => defineAgent({ kind: 'x', model, prices: prices as never, module: import.meta.url });

describe('prices', () => {
  it('cost by token type; cache rates default to 1.25x (writes) and 0.1x (reads) of input', () => {
    const tokens = { input: 1_000_000, output: 2_000_000, cacheRead: 10_000_000, cacheWrite: 4_000_000 };
    expect(costUsd(tokens, { inputPerMTok: 2, outputPerMTok: 10 })).toBeCloseTo(2 + 20 + 10 * 0.2 + 4 * 2.5, 12);
    expect(costUsd(tokens, { inputPerMTok: 2, outputPerMTok: 10, cacheReadPerMTok: 0, cacheWritePerMTok: 1 })).toBeCloseTo(2 + 20 + 0 + 4, 12);
  });

  it('a table of one\'s own is merged over the defaults: its models become known, the defaults stay', () => {
    const table = priceTable({ 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } }, 'k');
    expect(table['my-model']).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect(table['claude-haiku-4-5']).toEqual(defaultPrices['claude-haiku-4-5']);
    expect(def({ 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } })).not.toThrow();
    expect(def(undefined)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_MODEL_PRICE' }));
  });

  it('a malformed table or entry is ERR_INVALID_AGENT_DEFINITION at definition, naming the model', () => {
    const bad = [
      'cheap', [], { 'my-model': 3 }, { 'my-model': null }, { 'my-model': { inputPerMTok: 1 } },
      { 'my-model': { inputPerMTok: -1, outputPerMTok: 1 } }, { 'my-model': { inputPerMTok: Number.NaN, outputPerMTok: 1 } },
      { 'my-model': { inputPerMTok: '1', outputPerMTok: 1 } }, { 'my-model': { inputPerMTok: 1, outputPerMTok: 1, cacheReadPerMTok: Infinity } },
    ];
    for (const prices of bad) expect(def(prices), JSON.stringify(prices)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_AGENT_DEFINITION' }));
    expect(def({ 'my-model': { inputPerMTok: 1, outputPerMTok: -2 } })).toThrow(/prices\['my-model'\]\.outputPerMTok/);
  });
});
