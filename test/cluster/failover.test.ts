import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../actors/define.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { Runtime } from '../../runtime/index.ts';
import { clusterOf } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { answersFromSurvivors } from './support/failover-checks.ts';
import type { account } from './failover-actors.ts';

const TTL_S = 2;

/** Effects file lines: [pid, time, messageId]. */
function effects(file: string): Array<[number, number, string]> {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [pid, at, id] = l.split(' ');
    return [Number(pid), Number(at), id!];
  });
}

describe.skipIf(noNats)('failover of actors when a node dies or is paused', () => {
  const suite = clusterSuite();

  /** Three node processes and an in-process driver node, in a cluster of their own (name). */
  async function cluster(name: string) {
    const effectsFile = join(suite.dir, `${name}.effects`);
    writeFileSync(effectsFile, '');
    const options = { servers: suite.nats.url, name, heartbeatTtlS: TTL_S };
    const started = await Promise.all(['n1', 'n2', 'n3'].map((n) => suite.process(n, options, { TROUPE_EFFECTS_FILE: effectsFile })));
    const driver = await suite.node('driver', options);
    return { n: started, driver, effectsFile };
  }

  /** Send until acknowledged, retrying with the same message id (what a client does when a node goes away). */
  async function deposit(driver: Runtime, ref: ActorRef<typeof account>, messageId: string) {
    return until(`deposit ${messageId} acknowledged`, () => driver.send(ref, 'deposit', 1, { messageId, timeoutMs: 2000 }), 30_000, 100);
  }

  it('a node killed with SIGKILL: its actors come back on the survivors, every acknowledged message applied once', async () => {
    const { n: [n1, n2, n3], driver } = await cluster('kill');
    const ids = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
    for (const id of ids) await n1!.request('spawnFailover', { id });
    expect(await n1!.request<string[]>('hosted')).toEqual([...ids].sort());
    const refs = await Promise.all(ids.map(async (id) => (await driver.lookup(id)) as ActorRef<typeof account>));
    const acked = new Map<string, string[]>(ids.map((id) => [id, []]));
    const send = async (round: number) => {
      await Promise.all(ids.map(async (id, i) => {
        const messageId = `${id}/m${round}`;
        await deposit(driver, refs[i]!, messageId);
        acked.get(id)!.push(messageId);
      }));
    };
    for (let r = 0; r < 10; r++) await send(r);
    const killed = n1!.kill(); // while the next rounds flow
    for (let r = 10; r < 20; r++) await send(r);
    await killed;
    // Every actor answers again, from a survivor, with exactly what was acknowledged, in order.
    for (const [i, id] of ids.entries()) {
      const state = await until(`${id} answers`, () => driver.ask(refs[i]!, 'state', undefined, { timeoutMs: 3000 }), 30_000, 100);
      expect([n2!.pid, n3!.pid, process.pid], `${id} answered by pid ${state.pid} (n1 ${n1!.pid})`).toContain(state.pid);
      expect(state.ids).toEqual(acked.get(id));
      expect(state.total).toBe(20);
    }
    // The survivors (the driver is a node of the cluster too) host each exactly once.
    const hosted = [...(await n2!.request<string[]>('hosted')), ...(await n3!.request<string[]>('hosted')), ...clusterOf(driver).failover.hostedIds()];
    expect(hosted.sort()).toEqual([...ids].sort());
    // A retry of an acknowledged message is recognised, not applied again.
    expect(await driver.send(refs[0]!, 'deposit', 1, { messageId: 'acct-0/m19' })).toEqual({ messageId: 'acct-0/m19', duplicate: true });
    expect((await driver.ask(refs[0]!, 'state')).total).toBe(20);
  }, 90_000);

  it('a node paused past its lease (SIGSTOP, SIGCONT) stops its stale actors and applies nothing after it resumes', async () => {
    const { n: [n1, n2, n3], driver, effectsFile } = await cluster('pause');
    const ids = ['p-0', 'p-1', 'p-2', 'p-3'];
    for (const id of ids) await n2!.request('spawnFailover', { id });
    const refs = await Promise.all(ids.map(async (id) => (await driver.lookup(id)) as ActorRef<typeof account>));
    let m = 0;
    const round = () => Promise.all(refs.map((ref, i) => deposit(driver, ref, `${ids[i]}/m${m++}`)));
    await round();
    await until('n2 applied the first round', () => effects(effectsFile).filter(([pid]) => pid === n2!.pid).length >= ids.length, 10_000);
    n2!.signal('SIGSTOP');
    await round(); // journaled while n2 is paused
    await until('the survivors host every actor', async () => {
      const hosted = [...(await n1!.request<string[]>('hosted')), ...(await n3!.request<string[]>('hosted')), ...clusterOf(driver).failover.hostedIds()];
      return hosted.length === ids.length;
    }, 30_000, 200);
    await round();
    const resumedAt = Date.now();
    n2!.signal('SIGCONT');
    await round(); // n2 has these in its feed too, once it resumes: it must not apply them
    await until('n2 gave up its stale actors', async () => (await n2!.request<string[]>('hosted')).length === 0, 30_000, 100);
    await round();
    for (const [i, ref] of refs.entries()) {
      const state = await until(`${ids[i]} answers`, () => driver.ask(ref, 'state', undefined, { timeoutMs: 3000 }), 30_000, 100);
      expect(state.pid).not.toBe(n2!.pid);
      expect(state.total).toBe(5);
      expect(new Set(state.ids).size).toBe(5);
    }
    const stale = effects(effectsFile).filter(([pid, at]) => pid === n2!.pid && at >= resumedAt);
    expect(stale).toEqual([]);
  }, 90_000);
  /** How many messages of actor `id`'s journal JetStream holds now. */
  async function journaled(driver: Runtime, name: string, id: string): Promise<number> {
    const jsm = await jetstreamManager(clusterOf(driver).nc);
    const info = await jsm.streams.info(`troupe_${name}_journal`, { subjects_filter: `troupe.${name}.journal.${id}` });
    return info.state.subjects?.[`troupe.${name}.journal.${id}`] ?? 0;
  }

  it('snapshots trim the journal; after a SIGKILL a survivor resumes from snapshot and tail, exactly once', async () => {
    const { n: [n1, n2, n3], driver, effectsFile } = await cluster('snap');
    const ids = ['s-0', 's-1', 's-2'];
    for (const id of ids) await n1!.request('spawnFailover', { id, snapshotEvery: 5 });
    const refs = await Promise.all(ids.map(async (id) => (await driver.lookup(id)) as ActorRef<typeof account>));
    const acked = new Map<string, string[]>(ids.map((id) => [id, []]));
    const send = (round: number) => Promise.all(ids.map(async (id, i) => {
      await deposit(driver, refs[i]!, `${id}/m${round}`);
      acked.get(id)!.push(`${id}/m${round}`);
    }));
    for (let r = 0; r < 12; r++) await send(r);
    // Snapshots at 5 and 10 messages: the journal keeps the tail only.
    await until('the journals are trimmed', async () => (await Promise.all(ids.map((id) => journaled(driver, 'snap', id)))).every((n) => n <= 7), 20_000, 100);
    const killed = n1!.kill();
    for (let r = 12; r < 23; r++) await send(r);
    await killed;
    const states = await answersFromSurvivors(driver, refs, ids, acked, [n2!.pid, n3!.pid, process.pid]);
    for (const [i, id] of ids.entries()) {
      const state = states[i]!;
      expect(state.total).toBe(23);
      // The survivor applied the tail after a snapshot, not the whole journal.
      const replayed = effects(effectsFile).filter(([pid, , m]) => pid === state.pid && m.startsWith(`${id}/`));
      expect(replayed.length).toBeLessThanOrEqual(23 - 10);
    }
    expect(await driver.send(refs[0]!, 'deposit', 1, { messageId: 's-0/m3' })).toEqual({ messageId: 's-0/m3', duplicate: true });
    expect((await driver.ask(refs[0]!, 'state')).total).toBe(23);
  }, 90_000);

  it('a taken-over actor answers only once it has handled the journal it took over', async () => {
    const { n: [n1, n2, n3], driver, effectsFile } = await cluster('hold');
    await n1!.request('spawnFailover', { id: 'r-0' });
    const ref = (await driver.lookup('r-0')) as ActorRef<typeof account>;
    await deposit(driver, ref, 'r-0/first');
    await n1!.kill();
    // Journaled while nobody hosts r-0: an ask, then slow deposits (each keeps the actor busy 10 ms).
    const asked = driver.ask(ref, 'state', undefined, { timeoutMs: 30_000 });
    const slow = Array.from({ length: 30 }, (_, i) => `r-0/slow${i}`);
    for (const messageId of slow) await driver.send(ref, 'slowDeposit', 1, { messageId });
    const state = await asked;
    const answeredAt = Date.now();
    expect([n2!.pid, n3!.pid, process.pid]).toContain(state.pid);
    expect(state.total).toBe(1); // what the journal held before the ask
    const applied = effects(effectsFile).filter(([pid, , m]) => pid === state.pid && m.startsWith('r-0/slow'));
    expect(applied.map(([, , m]) => m)).toEqual(slow);
    for (const [, at] of applied) expect(at).toBeLessThanOrEqual(answeredAt);
  }, 90_000);
});
