// Uniform random choice: the baseline the other strategies are measured against.
import type { Strategy } from '../types.ts';
import { preferBest } from './prefer.ts';

export const random: Strategy = (all, _message, state) => {
  const candidates = preferBest(all);
  return candidates[Math.min(candidates.length - 1, Math.floor(state.random() * candidates.length))];
};
