/**
 * A durable message that kills its worker thread (process.exit in the handler), on real threads and a real LMDB
 * directory (issue #4). Without a limit it loops: the thread is replaced, the supervisor restarts the actor's
 * stand-in, the journal replays that message first, the thread dies again. With poisonAfter: 2 it is replayed
 * twice, then set aside as a poison message; the messages before and after it are applied exactly once.
 */
import { describe, expect, it } from 'vitest';
import { runtimeWithCrashes, eventually } from './helpers.ts';
import { tempDir } from '../persistence/helpers.ts';
import { poisonable } from '../fixtures/poison.ts';
import { ManualClock } from '../../runtime/clock.ts';

describe('a durable message that kills its thread', () => {
  it('is replayed poisonAfter times on the replacement thread, then set aside; the actor moves past it', { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    const { rt, crashes } = await runtimeWithCrashes({ workers: 2, clock, random: () => 0, dataDir: tempDir() });
    const sup = await rt.supervise({
      id: 'root',
      intensity: { maxRestarts: 100, withinMs: 60_000 },
      backoff: { minMs: 100, maxMs: 100, randomFactor: 0 }, // each restart waits for the test's clock
      children: [{ id: 'p', actor: poisonable, pin: 1 }],
    });
    const p = sup.ref<typeof poisonable>('p')!;
    await rt.send(p, 'add', 'a', { messageId: 'a' });
    await rt.send(p, 'add', 'b', { messageId: 'b' });
    rt.tell(p, 'add', 'die'); // journaled, then handled: the thread dies (the first delivery, not counted)
    await eventually(() => crashes.length === 1, 20_000);
    expect(crashes[0]).toMatchObject({ actorId: 'p', messageType: '$exit', decision: 'restart' });

    // Behind it in the journal: sent to the stand-in while it waits for its restart, acknowledged (on disk).
    for (const text of ['c', 'd']) {
      await eventually(() => rt.send(p, 'add', text, { messageId: text }).catch(() => undefined), 20_000);
    }

    let losses = 1;
    for (;;) {
      clock.advance(100); // the backoff is over: restarted in place, the journal's head replayed first
      const outcome = await eventually(async () => {
        if (crashes.length > losses) return 'lost';
        return (await rt.poisonMessages('p')).length > 0 ? 'set aside' : undefined;
      }, 20_000);
      if (outcome === 'set aside') break;
      losses++;
      expect(losses).toBeLessThanOrEqual(3); // 1 first delivery + 2 replays: never a fourth
    }
    expect(losses).toBe(3);
    expect(crashes.every((c) => c.messageType === '$exit' && c.decision === 'restart')).toBe(true);

    expect(await rt.ask(p, 'get')).toEqual(['a', 'b', 'c', 'd']); // each once, in order, 'die' skipped
    expect(await rt.poisonMessages('p')).toEqual([
      expect.objectContaining({ seq: 3, type: 'add', payload: 'die', attempts: 2 }),
    ]);
    expect((await rt.stats()).deadLetters.poison).toBe(1);
    await rt.send(p, 'add', 'e'); // keeps working, on the same thread
    expect(await rt.ask(p, 'get')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(sup.children()).toMatchObject([{ id: 'p', status: 'running', restarts: 3, node: 1 }]);
    expect(crashes).toHaveLength(3);
  });
});
