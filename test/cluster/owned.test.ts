import '../../router/index.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../../actors/define.ts';
import { InvalidSpawnOptionError, Runtime, type TerminationNotice } from '../../runtime/index.ts';
import { InvalidSupervisorOptionError } from '../../supervisors/policy/index.ts';
import type { CrashReport } from '../../supervisors/supervisor.ts';
import { clusterOf } from '../../cluster/index.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { answersFromSurvivors } from './support/failover-checks.ts';
import { account } from './failover-actors.ts';
import { notebook } from './fixtures.ts';

const TTL_S = 2;

describe('cluster-owned supervised children without a cluster', () => {
  it('a failover child needs a cluster: InvalidSpawnOptionError, nothing left running', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      await expect(rt.supervise({ id: 'tree', children: [{ id: 'plain', actor: notebook }, { id: 'o', actor: account, failover: true }] })).rejects.toBeInstanceOf(InvalidSpawnOptionError);
      expect(await rt.lookup('plain')).toBeUndefined();
    } finally {
      await rt.shutdown();
    }
  });

  it('bad failover options are named errors before anything starts', async () => {
    const rt = await Runtime.start({ workers: 0 });
    try {
      const bad = [
        { id: 'o', actor: account, failover: 'yes' },
        { id: 'o', actor: account, failover: { snapshotEvery: -1 } },
        { id: 'o', actor: account, failover: true, pin: 0 },
        { id: 'o', actor: account, failover: true, handlerTimeoutMs: 1000 },
        { id: 'o', actor: account, failover: true, mailbox: { kind: 'priority', priorities: { deposit: 1 } } },
      ];
      for (const child of bad) await expect(rt.supervise({ id: 'tree', children: [child as never] })).rejects.toBeInstanceOf(InvalidSupervisorOptionError);
    } finally {
      await rt.shutdown();
    }
  });
});

describe.skipIf(noNats)('cluster-owned supervised children (ChildSpec.failover)', () => {
  const suite = clusterSuite({ defaults: { heartbeatTtlS: TTL_S } });
  const node = (name: string, cluster: string) => suite.node(name, { name: cluster });

  it('a tree hosts its owned child through the cluster; stopping the tree stops it (watchers told), a new tree resumes its state', async () => {
    const a = await node('a', 'tree');
    const b = await node('b', 'tree');
    const spec = { id: 'accounts', children: [{ id: 'owned-1', actor: account, failover: true }, { id: 'beside', actor: notebook }] };
    const sup = await a.supervise(spec);
    expect(clusterOf(a).failover.hostedIds()).toEqual(['owned-1']);
    const ref = (await until('b finds owned-1', () => b.lookup('owned-1'), 5000)) as ActorRef<typeof account>;
    for (let i = 0; i < 3; i++) await b.send(ref, 'deposit', 1, { messageId: `o1/${i}` });
    expect((await b.ask(ref, 'state')).total).toBe(3);
    const notices: TerminationNotice[] = [];
    b.watch(ref, (n) => notices.push(n));
    const local: TerminationNotice[] = [];
    a.watch(ref, (n) => local.push(n));
    await sup.stop();
    expect(clusterOf(a).failover.hostedIds()).toEqual([]);
    await until('b is told owned-1 stopped', () => notices.length === 1, 5000);
    await until('a is told too', () => local.length === 1, 5000);
    expect(notices[0]!.reason).toBe('stopped');
    await until('owned-1 is in no registry', async () => (await b.lookup('owned-1')) === undefined, 5000);
    // Its journal and snapshot stay: the tree started again resumes it.
    await a.supervise(spec);
    expect((await b.ask(ref, 'state')).total).toBe(3);
  }, 30_000);

  it('an owned child\'s crashes go to its supervisor: a restart after its backoff keeps its state and holds its mail meanwhile; exhausted, the tree stops it for good', async () => {
    const a = await node('a', 'crash');
    const b = await node('b', 'crash');
    const reports: CrashReport[] = [];
    a.onCrash((r) => reports.push(r));
    await a.supervise({
      id: 'crashy', intensity: { maxRestarts: 2, withinMs: 60_000 }, backoff: { minMs: 3000, maxMs: 3000, randomFactor: 0 },
      children: [{ id: 'owned-4', actor: account, failover: true }],
    });
    const ref = (await until('b finds owned-4', () => b.lookup('owned-4'), 5000)) as ActorRef<typeof account>;
    await b.send(ref, 'deposit', 1, { messageId: 'o4/0' });
    // Journaled right behind the crash: a supervised child is handed one message at a time, so o4/1 is not handled
    // before the restart (it was when both reached the incarnation together).
    b.tell(ref, 'boom');
    await b.send(ref, 'deposit', 1, { messageId: 'o4/1' });
    await until('the crash is reported', () => reports.length === 1, 5000);
    expect(reports[0]).toMatchObject({ actorId: 'owned-4', supervisor: 'crashy', messageType: 'boom', decision: 'restart', delayMs: 3000 });
    expect(reports[0]!.error.message).toMatch(/boom/);
    // Backing off: what is journaled waits, in order, for the restart.
    const asked = b.ask(ref, 'state', undefined, { timeoutMs: 10_000 });
    await until('held while backing off', () => clusterOf(a).failover.stats()['owned-4']?.queued === 2, 3000, 20);
    const state = await asked;
    expect(state.ids).toEqual(['o4/0', 'o4/1']); // the state kept across the restart (the journal's fold)
    b.tell(ref, 'boom');
    b.tell(ref, 'boom');
    await until('the third crash exhausts the intensity', () => reports.length === 3, 10_000);
    expect(reports.map((r) => r.decision)).toEqual(['restart', 'restart', 'escalate']);
    await until('the tree stopped it for good', async () => clusterOf(a).failover.hostedIds().length === 0 && (await b.lookup('owned-4')) === undefined, 5000);
  }, 30_000);

  it('runtime.stop from another node stops a failover actor where it runs', async () => {
    const a = await node('a', 'stop');
    const b = await node('b', 'stop');
    await a.supervise({ id: 't', children: [{ id: 'owned-2', actor: account, failover: true }] });
    const ref = (await until('b finds owned-2', () => b.lookup('owned-2'), 5000)) as ActorRef<typeof account>;
    await b.stop(ref);
    expect(clusterOf(a).failover.hostedIds()).toEqual([]);
    await expect(b.ask(ref, 'state', undefined, { timeoutMs: 1000 })).rejects.toThrow();
  }, 30_000);

  it('a node shut down hands its owned children to the survivors; its watches of other nodes\' actors end', async () => {
    const a = await node('a', 'leave');
    const b = await node('b', 'leave');
    await a.supervise({ id: 't', children: [{ id: 'owned-3', actor: account, failover: true }] });
    const ref = (await until('b finds owned-3', () => b.lookup('owned-3'), 5000)) as ActorRef<typeof account>;
    await b.send(ref, 'deposit', 1, { messageId: 'o3/0' });
    const elsewhere = await b.spawn(notebook, { id: 'on-b' });
    const fromA = (await until('a finds on-b', () => a.lookup('on-b'), 5000))!;
    const notices: TerminationNotice[] = [];
    a.watch(fromA, (n) => notices.push(n));
    await until('a registered its watch with b', () => clusterOf(b).watchersOf(elsewhere.id).length === 1, 5000);
    await a.shutdown(); // the tree stops after the node left: its owned child is not stopped, it moves
    expect(notices.map((n) => n.reason)).toEqual(['left-cluster']);
    const state = await until('owned-3 answers from b', () => b.ask(ref, 'state', undefined, { timeoutMs: 2000 }), 20_000, 100);
    expect(state.ids).toEqual(['o3/0']);
    expect(clusterOf(b).failover.hostedIds()).toEqual(['owned-3']);
  }, 30_000);

  it('a node killed with SIGKILL: its owned children come back on the survivors with every acknowledged message once; the tree started again finds them', async () => {
    const effectsFile = join(suite.dir, 'kill.effects');
    writeFileSync(effectsFile, '');
    const options = { servers: suite.nats.url, name: 'kill', heartbeatTtlS: TTL_S };
    const [n1, n2, n3] = await Promise.all(['n1', 'n2', 'n3'].map((n) => suite.process(n, options, { TROUPE_EFFECTS_FILE: effectsFile })));
    const driver = await suite.node('driver', options);
    const ids = Array.from({ length: 6 }, (_, i) => `kid-${i}`);
    expect(await n1!.request<string[]>('superviseOwned', { tree: 'bank', ids, capabilities: true })).toEqual([...ids, 'bank-plain']);
    expect(await n1!.request<string[]>('hosted')).toEqual([...ids].sort());
    // Each child offers its spec's capability (on top of its definition's), wherever it runs.
    const byCapability = (id: string) => driver.ask({ capability: `cap-${id}` }, 'state', undefined, { timeoutMs: 3000 }) as Promise<{ ids: string[]; pid: number }>;
    await until('every child is routable by capability', async () => (await Promise.all(ids.map(byCapability))).every((s) => s.pid === n1!.pid), 10_000, 100);
    const refs = await Promise.all(ids.map(async (id) => (await until(`lookup ${id}`, () => driver.lookup(id), 5000)) as ActorRef<typeof account>));
    const acked = new Map<string, string[]>(ids.map((id) => [id, []]));
    const round = (r: number) => Promise.all(ids.map(async (id, i) => {
      const messageId = `${id}/m${r}`;
      await until(`deposit ${messageId}`, () => driver.send(refs[i]!, 'deposit', 1, { messageId, timeoutMs: 2000 }), 30_000, 100);
      acked.get(id)!.push(messageId);
    }));
    for (let r = 0; r < 5; r++) await round(r);
    const killed = n1!.kill();
    for (let r = 5; r < 10; r++) await round(r);
    await killed;
    const states = await answersFromSurvivors(driver, refs, ids, acked, [n2!.pid, n3!.pid, process.pid]);
    for (const [i, id] of ids.entries()) {
      const state = states[i]!;
      // Routable by its capability on the survivor (the capabilities are in its registry record).
      const routed = await until(`${id} answers by capability`, () => byCapability(id), 30_000, 100);
      expect(routed).toEqual(state);
    }
    const hosted = [...(await n2!.request<string[]>('hosted')), ...(await n3!.request<string[]>('hosted')), ...clusterOf(driver).failover.hostedIds()];
    expect(hosted.sort()).toEqual([...ids].sort());
    // n1 again (its id frees one TTL after the kill): its tree starts, its owned children stay where they run.
    const again = await until('n1 joins again', () => suite.process('n1', options, { TROUPE_EFFECTS_FILE: effectsFile }), 20_000, 500);
    expect(await again.request<string[]>('superviseOwned', { tree: 'bank', ids })).toEqual([...ids, 'bank-plain']);
    expect(await again.request<string[]>('hosted')).toEqual([]);
    for (const [i, id] of ids.entries()) expect((await driver.ask(refs[i]!, 'state')).ids).toEqual(acked.get(id));
  }, 120_000);
});
