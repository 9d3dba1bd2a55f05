/**
 * Cost from a configurable price table: USD per million tokens, by token type. The defaults are list prices at
 * the time of writing; pass your own table to defineAgent({ prices }) (it is merged over these).
 */
import { UnknownModelPriceError } from './errors.ts';

export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Default: 1.25x input (5-minute cache writes). */
  cacheWritePerMTok?: number;
  /** Default: 0.1x input. */
  cacheReadPerMTok?: number;
}

export type PriceTable = Record<string, ModelPrice>;

export const defaultPrices: PriceTable = {
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75 },
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-3-5-haiku-latest': { inputPerMTok: 0.8, outputPerMTok: 4 },
};

export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export function priceFor(model: string, table: PriceTable): ModelPrice {
  const p = table[model];
  if (!p) throw new UnknownModelPriceError(`no price for model '${model}' in the price table (known: ${Object.keys(table).join(', ')})`, { details: { model } });
  return p;
}

export function costUsd(t: TokenCounts, p: ModelPrice): number {
  const write = p.cacheWritePerMTok ?? p.inputPerMTok * 1.25;
  const read = p.cacheReadPerMTok ?? p.inputPerMTok * 0.1;
  return (t.input * p.inputPerMTok + t.output * p.outputPerMTok + t.cacheWrite * write + t.cacheRead * read) / 1e6;
}
