/**
 * Cost from a configurable price table: USD per million tokens, by token type. The defaults are list prices at
 * the time of writing; pass your own table to defineAgent({ prices }) (it is merged over these).
 */
import { InvalidAgentDefinitionError, UnknownModelPriceError } from './errors.ts';

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

/**
 * `given` merged over the defaults. An entry that is not a price (not an object, or a rate that is not a finite
 * number >= 0) is ERR_INVALID_AGENT_DEFINITION: it would make every cost NaN or negative, silently.
 */
export function priceTable(given: unknown, where: string): PriceTable {
  if (given === undefined) return { ...defaultPrices };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new InvalidAgentDefinitionError(`${where}: prices must be an object of model -> price`);
  for (const [model, p] of Object.entries(given as Record<string, unknown>)) {
    if (typeof p !== 'object' || p === null) throw new InvalidAgentDefinitionError(`${where}: prices['${model}'] is not a price`, { details: { model } });
    const price = p as Record<string, unknown>;
    const required = (f: string) => !f.startsWith('cache') || price[f] !== undefined; // cache rates have defaults
    const bad = RATES.find((f) => required(f) && !isRate(price[f]));
    if (bad !== undefined) throw new InvalidAgentDefinitionError(`${where}: prices['${model}'].${bad} must be a finite number >= 0`, { details: { model } });
  }
  return { ...defaultPrices, ...(given as PriceTable) };
}

const RATES = ['inputPerMTok', 'outputPerMTok', 'cacheWritePerMTok', 'cacheReadPerMTok'] as const;
const isRate = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n >= 0;

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
