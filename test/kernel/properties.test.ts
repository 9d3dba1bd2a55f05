import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Runtime } from '../../runtime/index.ts';
import { noter, recorder, sender } from '../fixtures/kinds.ts';
import type { ActorRef } from '../../actors/define.ts';
import { eventually } from './helpers.ts';

const runs = Number(process.env.TROUPE_FC_RUNS ?? 25);

// One runtime with three workers for all runs (starting threads per run would dominate the time).
let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.start({ workers: 3 });
});
afterAll(() => rt.shutdown());

describe('properties on real worker threads', () => {
  it('(a) per-pair FIFO: tells and asks from several senders on several threads arrive in send order', async () => {
    const plan = fc.record({
      senders: fc.array(fc.constantFrom(0, 1, 2, 3), { minLength: 1, maxLength: 4 }),
      receivers: fc.array(fc.constantFrom(0, 1, 2, 3), { minLength: 1, maxLength: 3 }),
      steps: fc.array(fc.record({ sender: fc.nat(), to: fc.nat(), ask: fc.boolean() }), { maxLength: 120 }),
    });
    await fc.assert(fc.asyncProperty(plan, async ({ senders, receivers, steps }) => {
      const recvRefs = await Promise.all(receivers.map((pin) => rt.spawn(recorder, { pin })));
      const sendRefs = await Promise.all(senders.map((pin) => rt.spawn(sender, { pin })));
      // Each sender gets its own slice of the steps, run concurrently with the others.
      const perSender = sendRefs.map(() => [] as { to: number; ask: boolean }[]);
      for (const s of steps) perSender[s.sender % sendRefs.length].push({ to: s.to % recvRefs.length, ask: s.ask });
      // The main thread is a sender too, interleaving with the actors.
      const mainSeq = recvRefs.map(() => 0);
      const mainAsks: Promise<unknown>[] = [];
      const bursts = sendRefs.map((ref, i) => rt.ask(ref, 'burst', { targets: recvRefs, steps: perSender[i] }));
      for (const s of steps.slice(0, 40)) {
        const to = s.to % recvRefs.length;
        const m = { from: 'main', seq: mainSeq[to]++ };
        if (s.ask) mainAsks.push(rt.ask(recvRefs[to], 'recAsk', m));
        else rt.tell(recvRefs[to], 'rec', m);
      }
      await Promise.all([...bursts, ...mainAsks]);
      for (let r = 0; r < recvRefs.length; r++) {
        // A sender's tells travel on its own channel, not the main thread's: wait until they have all landed.
        const total = steps.filter((s) => s.to % recvRefs.length === r).length + mainSeq[r];
        const log = await eventually(async () => {
          const l = await rt.ask(recvRefs[r], 'dump');
          return Object.values(l).reduce((n, seqs) => n + seqs.length, 0) >= total && l;
        });
        sendRefs.forEach((ref, i) => {
          const expected = perSender[i].filter((s) => s.to === r).length;
          expect(log[ref.id] ?? []).toEqual(Array.from({ length: expected }, (_, k) => k));
        });
        expect(log.main ?? []).toEqual(Array.from({ length: mainSeq[r] }, (_, k) => k));
      }
      await Promise.all([...recvRefs, ...sendRefs].map((ref) => rt.stop(ref)));
    }), { numRuns: runs });
  });

  it('(b) random spawn / tell / ask / stop: every message is handled exactly once or is a dead letter', async () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('spawn' as const), pin: fc.constantFrom(0, 1, 2, 3) }),
      fc.record({ op: fc.constant('tell' as const), actor: fc.nat() }),
      fc.record({ op: fc.constant('ask' as const), actor: fc.nat() }),
      fc.record({ op: fc.constant('stop' as const), actor: fc.nat() }),
    );
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 80 }), async (commands) => {
      const ledger = await rt.spawn(recorder, { pin: 1 });
      const before = await deadLetterTotal();
      const actors: ActorRef<typeof noter>[] = [];
      const stops: Promise<void>[] = [];
      const answered = new Set<number>();
      const rejected = new Set<number>();
      const asks: Promise<void>[] = [];
      let sent = 0;
      for (const c of commands) {
        if (c.op === 'spawn') actors.push(await rt.spawn(noter, { pin: c.pin }));
        else if (actors.length === 0) continue;
        else if (c.op === 'stop') stops.push(rt.stop(actors[c.actor % actors.length]));
        else {
          const id = sent++;
          const to = actors[c.actor % actors.length];
          if (c.op === 'tell') rt.tell(to, 'note', { id, ledger });
          else asks.push(rt.ask(to, 'note', { id, ledger }).then(() => void answered.add(id), () => void rejected.add(id)));
        }
      }
      await Promise.all([...asks, ...stops]);
      const handled = () => rt.ask(ledger, 'dump').then((log) => log.ledger ?? []);
      // Tells may still be in flight: wait until every message is accounted for, then check nothing is counted twice.
      await eventually(async () => (await handled()).length + (await deadLetterTotal()) - before >= sent);
      const ids = await handled();
      expect(new Set(ids).size).toBe(ids.length); // no duplicates
      expect(ids.length + (await deadLetterTotal()) - before).toBe(sent); // no loss, nothing both handled and dead
      for (const id of answered) expect(ids).toContain(id);
      for (const id of rejected) expect(ids).not.toContain(id);
      await Promise.all([ledger, ...actors].map((ref) => rt.stop(ref)));
    }), { numRuns: runs });
  });
});

async function deadLetterTotal(): Promise<number> {
  const s = await rt.stats({ actors: false });
  return Object.values(s.deadLetters).reduce((a, b) => a + (b ?? 0), 0);
}
