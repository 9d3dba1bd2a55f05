import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, traceIdOf } from '../../runtime/index.ts';
import { ActorStore } from '../../persistence/index.ts';
import { startOpsServer } from '../../ops/server.ts';
import { tracedJournal } from '../fixtures/durable.ts';
import { call, eventually } from './helpers.ts';

const TOKEN = 'poison-token-0123456789abcdef';
const SENT_IN = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('poison messages through the admin API', () => {
  it('lists one set aside at recovery, requeues it (its trace goes on) and drops another, only with the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-ops-poison-'));
    const dataDir = join(dir, 'data');
    // A journaled message whose replay was begun three times already (its thread died each time): the next recovery sets it aside.
    const seed = ActorStore.open(dataDir);
    seed.appendJournal('t', 1, { id: 'm1', type: 'note', payload: null, trace: SENT_IN });
    void seed.recordDelivery('t', { seq: 1, attempts: 3 }); // poisonAfter (3) replays begun
    await seed.settled();
    await seed.close();
    const rt = await Runtime.start({ workers: 1, spareWorker: false, dataDir });
    const server = await startOpsServer(rt, { port: 0, token: TOKEN, tokenFile: join(dir, 'token') });
    try {
      const t = await rt.spawn(tracedJournal, { id: 't', pin: 1 });
      const listed = await eventually(async () => {
        const m = (await call(server, 'GET', '/api/actors/t/poison')).json.messages as Array<Record<string, unknown>>;
        return m.length === 1 && m;
      }, 5000, 'the poison message');
      expect(listed[0]).toMatchObject({ seq: 1, id: 'm1', type: 'note', attempts: 3, trace: SENT_IN });
      expect(await rt.ask(t, 'traces')).toEqual([]); // set aside, not handled
      expect((await call(server, 'POST', '/api/actors/t/poison/1/requeue', { body: {} })).status).toBe(401);
      const requeued = await call(server, 'POST', '/api/actors/t/poison/1/requeue', { body: {}, token: TOKEN });
      expect(requeued.status).toBe(200);
      expect(requeued.json.receipt).toMatchObject({ messageId: 'm1#requeued-1', duplicate: false });
      expect(await rt.ask(t, 'traces')).toEqual([traceIdOf(SENT_IN)]); // handled now, in the trace it was sent in
      expect((await call(server, 'GET', '/api/actors/t/poison')).json.messages).toEqual([]);
      // Another one, set aside by an earlier run (stored directly): dropped, then gone.
      const store = ActorStore.open(dataDir);
      await store.putPoison('t', { seq: 7, id: 'm7', type: 'note', payload: null, attempts: 3, at: Date.now() });
      await store.close();
      expect((await call(server, 'POST', '/api/actors/t/poison/7/drop', { body: {}, token: 'wrong-token-0123456789abcdef' })).status).toBe(401);
      expect((await call(server, 'GET', '/api/actors/t/poison')).json.messages).toHaveLength(1);
      expect((await call(server, 'POST', '/api/actors/t/poison/7/drop', { body: {}, token: TOKEN })).status).toBe(200);
      expect((await call(server, 'GET', '/api/actors/t/poison')).json.messages).toEqual([]);
      const again = await call(server, 'POST', '/api/actors/t/poison/7/drop', { body: {}, token: TOKEN });
      expect([again.status, again.json.error.code]).toEqual([404, 'ERR_POISON_NOT_FOUND']);
      expect(await rt.ask(t, 'traces')).toHaveLength(1);
    } finally {
      await server.close();
      await rt.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
