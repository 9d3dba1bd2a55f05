import { describe, expect, it } from 'vitest';
import { ClusterDisconnectedError, NodeLostError } from '../../cluster/index.ts';
import { JOURNAL, Outbox } from '../../cluster/outbox.ts';
import { until } from '../ops-proof/support/ports.ts';

/** An outbox with its connection, peers' liveness and probe answers in the test's hands. */
function setup(limit = 100) {
  const world = { connected: false, alive: new Set(['p1', 'p2']), reachable: new Set<string>(), probes: 0 };
  const outbox = new Outbox(() => world.connected, (p) => world.alive.has(p), async (p) => {
    world.probes++;
    return world.reachable.has(p);
  }, 5, limit);
  const sent: string[] = [];
  const failed: [string, Error][] = [];
  const park = (dest: string, label: string) => outbox.park(dest, { send: () => sent.push(label), fail: (e) => failed.push([label, e]) });
  return { world, outbox, sent, failed, park };
}

describe('the outbox of whenDisconnected: wait', () => {
  it('holds mail while down, sends each peer its mail in order once that peer answers a probe', async () => {
    const { world, outbox, sent, park } = setup();
    expect(outbox.holds('p1')).toBe(true);
    park('p1', 'a1');
    park('p2', 'b1');
    park('p1', 'a2');
    park(JOURNAL, 'j1');
    world.connected = true;
    outbox.reconnected();
    await until('the journal is flushed at once', () => sent.includes('j1'), 5000);
    expect(outbox.holds('p1')).toBe(true); // p1 not reachable yet: still held, new mail goes behind
    park('p1', 'a3');
    world.reachable.add('p2');
    await until('p2 flushed', () => sent.includes('b1'), 5000);
    expect(sent).toEqual(['j1', 'b1']);
    world.reachable.add('p1');
    await until('p1 flushed', () => sent.includes('a3'), 5000);
    expect(sent).toEqual(['j1', 'b1', 'a1', 'a2', 'a3']);
    expect(outbox.parked).toBe(0);
    expect(outbox.holds('p1')).toBe(false);
  });

  it('stops flushing when the connection drops again and resumes on the next reconnect', async () => {
    const { world, outbox, sent, park } = setup();
    park('p1', 'a1');
    world.connected = true;
    outbox.reconnected();
    await until('probed', () => world.probes > 0, 5000);
    world.connected = false;
    world.reachable.add('p1');
    const probes = world.probes;
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual([]);
    expect(world.probes - probes).toBeLessThanOrEqual(1); // the loop ended (one probe may have been in flight)
    world.connected = true;
    outbox.reconnected();
    await until('flushed', () => sent.length === 1, 5000);
  });

  it('fails mail of a peer that left with NodeLostError, and mail over the limit with ClusterDisconnectedError', async () => {
    const { world, outbox, sent, failed, park } = setup(2);
    park('p1', 'a1');
    park('p2', 'b1');
    park('p2', 'b2');
    expect(failed.map(([l, e]) => [l, e.constructor])).toEqual([['b2', ClusterDisconnectedError]]);
    world.alive.delete('p1');
    world.reachable.add('p2');
    world.connected = true;
    outbox.reconnected();
    await until('both settled', () => failed.length === 2 && sent.length === 1, 5000);
    expect(failed[1]![0]).toBe('a1');
    expect(failed[1]![1]).toBeInstanceOf(NodeLostError);
    expect(sent).toEqual(['b1']);
  });

  it('close fails everything parked', () => {
    const { outbox, failed, park } = setup();
    park('p1', 'a1');
    park(JOURNAL, 'j1');
    outbox.close(new ClusterDisconnectedError('left'));
    expect(failed.map(([l]) => l).sort()).toEqual(['a1', 'j1']);
    expect(outbox.parked).toBe(0);
  });
});
