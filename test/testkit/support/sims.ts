// The testkit tests' simulations: started through here, stopped after each test.
import { afterEach } from 'vitest';
import { Simulation } from '../../../testkit/index.ts';

const sims: Simulation[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});

/**
 * Simulation.start, stopped after the test. TROUPE_SIM_STORE=memory runs every `durable: true` simulation on the
 * in-memory store instead of LMDB (the same tests must pass on both).
 */
export async function start(...args: Parameters<typeof Simulation.start>): Promise<Simulation> {
  if (process.env.TROUPE_SIM_STORE === 'memory' && args[0]?.durable === true) args[0] = { ...args[0], durable: 'memory' };
  const s = await Simulation.start(...args);
  sims.push(s);
  return s;
}

/** A one-for-one supervisor spec `sup` over `children` (restart budget 3 in 10 s, backoff 10..1000 ms; `extra` overrides). */
export const tree = (children: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'sup', strategy: 'one-for-one' as const, intensity: { maxRestarts: 3, withinMs: 10_000 }, backoff: { minMs: 10, maxMs: 1000 }, ...extra, children: children as never,
});
