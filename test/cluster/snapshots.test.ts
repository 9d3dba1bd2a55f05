import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotStore } from '../../cluster/snapshots.ts';
import { NatsServer, noNats } from './support/nats.ts';

/** The snapshot bucket of failover actors against a real JetStream: fenced writes, and the journal trim. */
describe.skipIf(noNats)('failover snapshots in JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let store: SnapshotStore;
  const stream = 'troupe_snap_journal';

  beforeAll(async () => {
    nats = await NatsServer.start({ maxPayload: 64 * 1024 });
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: ['troupe.snap.journal.>'], duplicate_window: 120_000_000_000 });
    store = await SnapshotStore.open(new Kvm(nc), jsm, 'snap', stream, () => nc.info!.max_payload);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('a new owner claims the record: the old owner, resumed, can no longer write a snapshot', async () => {
    expect(await store.claim('a', 5)).toEqual({ token: 5, seq: 0, hasState: false, state: undefined });
    expect(await store.write('a', 5, 10, { total: 10 })).toBe('written');
    expect(await store.write('a', 5, 10, { total: 10 })).toBe('stale'); // nothing newer
    // The new owner (token 7) resumes from what the old one wrote, and holds the record from now on.
    expect(await store.claim('a', 7)).toEqual({ token: 7, seq: 10, hasState: true, state: { total: 10 } });
    expect(await store.write('a', 5, 20, { total: 20 })).toBe('fenced');
    expect(await store.claim('a', 5)).toBe('fenced');
    expect(await store.write('a', 7, 15, { total: 15 })).toBe('written');
    expect(await store.claim('a', 9)).toEqual({ token: 9, seq: 15, hasState: true, state: { total: 15 } });
  });

  it('concurrent writers: the record ends at the highest token, and never at an older seq of it', async () => {
    await store.claim('b', 3);
    const outcomes = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => store.write('b', 3, i + 1, { by: 3, seq: i + 1 })),
      store.claim('b', 4),
    ]);
    expect(outcomes.filter((o) => o === 'written' || typeof o === 'object').length).toBeGreaterThan(0);
    const last = await store.claim('b', 4); // the same token again: what is there, unchanged
    expect(last).not.toBe('fenced');
    expect((last as { token: number }).token).toBe(4);
    expect(await store.write('b', 3, 100, {})).toBe('fenced');
  });

  it('a state over max_payload is not written (the journal stays whole)', async () => {
    await store.claim('c', 1);
    expect(await store.write('c', 1, 5, { blob: 'x'.repeat(100 * 1024) })).toBe('too-large');
    expect(await store.claim('c', 2)).toEqual({ token: 2, seq: 0, hasState: false, state: undefined });
  });

  it('trims the journal of one actor up to a seq, and a retry of a trimmed message is still a duplicate', async () => {
    const js = jetstream(nc);
    const subject = 'troupe.snap.journal.d';
    const other = await js.publish('troupe.snap.journal.e', new Uint8Array([1]));
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await js.publish(subject, new Uint8Array([i]), { msgID: `d-${i}` }));
    await store.trim(subject, acks[2]!.seq);
    const info = await jsm.streams.info(stream, { subjects_filter: '>' });
    expect(info.state.subjects?.[subject]).toBe(2);
    expect(info.state.subjects?.['troupe.snap.journal.e']).toBe(1);
    expect((await jsm.streams.getMessage(stream, { seq: other.seq }))?.seq).toBe(other.seq);
    expect((await js.publish(subject, new Uint8Array([0]), { msgID: 'd-0' })).duplicate).toBe(true);
  });
});
