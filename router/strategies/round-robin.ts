// Round robin: a cursor kept in the route's memory on this thread. The candidate set may change between choices
// (actors join, leave, get ejected): the cursor is taken modulo the current size, so it never points past the end.
import type { Strategy } from '../types.ts';
import { preferBest } from './prefer.ts';

const CURSOR = 'roundRobin.cursor';

export const roundRobin: Strategy = (all, _message, state) => {
  const candidates = preferBest(all);
  const n = candidates.length;
  if (n === 0) return undefined;
  const raw = state.memory[CURSOR];
  const cursor = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? raw : 0;
  (state.memory as Record<string, unknown>)[CURSOR] = (cursor + 1) % Number.MAX_SAFE_INTEGER;
  return candidates[cursor % n];
};
