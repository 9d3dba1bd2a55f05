import { expect } from 'vitest';
import type { ActorRef } from '../../../actors/define.ts';
import type { Runtime } from '../../../runtime/index.ts';
import { until } from '../../ops-proof/support/ports.ts';
import type { account } from '../failover-actors.ts';

/**
 * After a node died: each account answers (waited for: the takeover takes a TTL and more) from one of `survivors`
 * (pids), with exactly its acknowledged message ids, in order. Returns the states, in the order of `ids`.
 */
export async function answersFromSurvivors(driver: Runtime, refs: ActorRef<typeof account>[], ids: string[], acked: Map<string, string[]>, survivors: number[]) {
  const states: Array<{ total: number; ids: string[]; pid: number }> = [];
  for (const [i, id] of ids.entries()) {
    const state = await until(`${id} answers`, () => driver.ask(refs[i]!, 'state', undefined, { timeoutMs: 3000 }), 30_000, 100);
    expect(survivors).toContain(state.pid);
    expect(state.ids).toEqual(acked.get(id));
    states.push(state);
  }
  return states;
}
