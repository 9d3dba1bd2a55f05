import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AskTimeoutError, Runtime } from '../../runtime/index.ts';
import { ClusterDisconnectedError, clusterOf, spawnFailover } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { ledger, notebook } from './fixtures.ts';

// `whenDisconnected: 'wait'` against 'fail', with the NATS server killed and restarted (same port, same store).
// Nodes wa and wb wait, node fc fails; all three see the same outage.
describe.skipIf(noNats)("whenDisconnected: 'wait' (NATS stopped, then restarted)", () => {
  const suite = clusterSuite({ defaults: { heartbeatTtlS: 60 }, workers: 1 });
  let wa: Runtime;
  let wb: Runtime;
  let fc: Runtime;
  const dir = suite.dir;

  beforeAll(async () => {
    wa = await suite.node('wa', { whenDisconnected: 'wait' });
    wb = await suite.node('wb', { whenDisconnected: 'wait' }, { workers: 1, dataDir: join(suite.dir, 'wb') });
    fc = await suite.node('fc', { whenDisconnected: 'fail' });
  });

  it('calls made while NATS is down wait and complete once it is back, in order; with fail they fail at once', { timeout: 180_000 }, async () => {
    const book = await wb.spawn(notebook, { id: 'w-book' });
    const gate = await wb.spawn(notebook, { id: 'w-gate' });
    const acct = await wb.spawn(ledger, { id: 'w-ledger' });
    const journaled = await spawnFailover(wb, notebook, { id: 'w-journaled' });
    // Every node knows them before the outage (their registry copies, the failover actor's journal).
    for (const rt of [wa, fc]) {
      expect(await rt.ask(book, 'count')).toBe(0);
      expect(await rt.ask(acct, 'balance')).toEqual({ balance: 0, applied: 0 });
      await rt.send(journaled, 'note', 'before');
    }
    // An ask in flight when the connection drops: its handler runs on wb until the test releases it.
    const files = { started: join(dir, 'started'), release: join(dir, 'release') };
    const inFlight = wa.ask(gate, 'gated', files, { timeoutMs: 150_000 });
    await until('the gated handler runs on wb', () => existsSync(files.started), 60_000);

    await suite.nats.kill();
    await until('all three nodes see the connection lost', () => [wa, wb, fc].every((rt) => !clusterOf(rt).connection().connected), 60_000);

    // 'fail': at once, with ClusterDisconnectedError (remote actor, durable send, failover journal alike).
    await expect(fc.ask(book, 'count', undefined, { timeoutMs: 60_000 })).rejects.toBeInstanceOf(ClusterDisconnectedError);
    await expect(fc.send(acct, 'deposit', 1)).rejects.toBeInstanceOf(ClusterDisconnectedError);
    await expect(fc.send(journaled, 'note', 'fc-down')).rejects.toBeInstanceOf(ClusterDisconnectedError);

    // 'wait': parked, in call order; an ask whose timeout comes first times out as any ask does.
    for (const n of ['w1', 'w2', 'w3']) wa.tell(book, 'note', n);
    const notes = wa.ask(book, 'notes', undefined, { timeoutMs: 150_000 });
    const deposit = wa.send(acct, 'deposit', 5, { messageId: 'dep-during-outage', timeoutMs: 150_000 });
    const journal = wa.send(journaled, 'note', 'wa-down', { messageId: 'note-during-outage', timeoutMs: 150_000 });
    await expect(wa.ask(book, 'count', undefined, { timeoutMs: 500 })).rejects.toBeInstanceOf(AskTimeoutError);
    expect(clusterOf(wa).connection().parked).toBe(7);
    // The gated handler ends while wb is cut off: its answer waits on wb for wa.
    writeFileSync(files.release, '');
    await until('the answer waits on wb', () => clusterOf(wb).connection().parked === 1, 60_000);

    await suite.nats.restart();
    expect(await inFlight).toBe('released');
    expect(await notes).toEqual(['w1', 'w2', 'w3']);
    expect(await deposit).toMatchObject({ duplicate: false });
    expect(await journal).toMatchObject({ messageId: 'note-during-outage', duplicate: false });
    expect(await wb.ask(acct, 'balance')).toEqual({ balance: 5, applied: 1 });
    expect(await wa.ask(journaled, 'notes', undefined, { timeoutMs: 30_000 })).toEqual(['before', 'before', 'wa-down']);
    // The ask that timed out was delivered late (its answer dropped); fc works again once it has reconnected.
    expect(await wb.ask(book, 'count')).toBe(3);
    await until('fc reaches wb again', async () => (await fc.ask(book, 'count', undefined, { timeoutMs: 2000 }).catch(() => -1)) === 3, 60_000);
    expect(clusterOf(wa).connection()).toEqual({ connected: true, parked: 0 });
    expect(clusterOf(wb).connection()).toEqual({ connected: true, parked: 0 });
  });
});
