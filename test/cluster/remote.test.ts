import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorCrashedError, ActorNotFoundError, AskTimeoutError, Runtime, UnknownMessageTypeError } from '../../runtime/index.ts';
import { PayloadTooLargeError } from '../../cluster/index.ts';
import { NatsServer, noNats } from './support/nats.ts';
import { ledger, notebook, relay } from './fixtures.ts';

const MAX_PAYLOAD = 64 * 1024;

describe.skipIf(noNats)('messages between nodes', () => {
  let nats: NatsServer;
  let a: Runtime;
  let b: Runtime;
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-cluster-remote-'));

  beforeAll(async () => {
    nats = await NatsServer.start({ maxPayload: MAX_PAYLOAD });
    a = await Runtime.start({ workers: 2, cluster: { servers: nats.url, node: 'ra', heartbeatTtlS: 3 } });
    b = await Runtime.start({ workers: 2, dataDir, cluster: { servers: nats.url, node: 'rb', heartbeatTtlS: 3 } });
  });
  afterAll(async () => {
    await a?.shutdown();
    await b?.shutdown();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells and asks reach an actor on another node, in send order (refs are plain data)', async () => {
    const book = await b.spawn(notebook, { id: 'book-1' });
    const ref = JSON.parse(JSON.stringify(book)); // plain data, as if it came in a message
    const asks: Promise<number>[] = [];
    for (let i = 0; i < 300; i++) {
      a.tell(ref, 'note', `n${i}`);
      if (i % 50 === 49) asks.push(a.ask(ref, 'count'));
    }
    // Each ask sees every tell sent before it, and none sent after it (one sender, one receiver: FIFO).
    expect(await Promise.all(asks)).toEqual([50, 100, 150, 200, 250, 300]);
    expect(await a.ask(ref, 'notes')).toEqual(Array.from({ length: 300 }, (_, i) => `n${i}`));
  });

  it('an actor on a worker of one node talks to an actor on a worker of another through a ref in a message', async () => {
    const book = await b.spawn(notebook, { id: 'book-2', pin: 2 });
    const r = await a.spawn(relay, { id: 'relay-1', pin: 1 });
    expect(await a.ask(r, 'askIt', { to: book, text: 'hello' })).toBe(1);
    expect(await b.ask(book, 'notes')).toEqual(['hello']);
    // And back: the node of the relay answers an ask from the other node's main thread too.
    expect(await b.ask(r, 'askIt', { to: book, text: 'again' })).toBe(2);
  });

  it('lookup finds it on any node; the reply type is the same as a local one', async () => {
    await b.spawn(notebook, { id: 'book-3' });
    const ref = await a.lookup('book-3');
    expect(ref).toBeDefined();
    expect(await a.ask(ref!, 'echo', { deep: { list: [1, 2, 3] }, at: new Date(5) })).toEqual({ deep: { list: [1, 2, 3] }, at: new Date(5) });
  });

  it('fails at once when the target does not exist, and with the cause when it crashes', async () => {
    const book = await b.spawn(notebook, { id: 'book-4' });
    await b.stop(book);
    await expect(a.ask(book, 'count')).rejects.toBeInstanceOf(ActorNotFoundError);
    await expect(a.ask({ id: 'never-spawned', kind: 'notebook', node: 0 }, 'count')).rejects.toBeInstanceOf(ActorNotFoundError);
    const live = await b.spawn(notebook, { id: 'book-5' });
    const err = await a.ask(live, 'fail', 'on purpose').catch((e) => e);
    expect(err).toBeInstanceOf(ActorCrashedError);
    expect(String(err.cause?.message)).toContain('failed: on purpose');
    await expect(a.ask(live, 'nope' as never)).rejects.toBeInstanceOf(UnknownMessageTypeError);
  });

  it('times out as a local ask does, and drops the late reply', async () => {
    const book = await b.spawn(notebook, { id: 'book-6' });
    await expect(a.ask(book, 'slow', 1000, { timeoutMs: 100 })).rejects.toBeInstanceOf(AskTimeoutError);
    expect(await a.ask(book, 'count')).toBe(0); // the actor is fine and the late reply went nowhere
  });

  it('a payload over the server max_payload is a named error at the call site', async () => {
    const book = await b.spawn(notebook, { id: 'book-7' });
    const big = 'x'.repeat(MAX_PAYLOAD + 1);
    const err: any = await a.ask(book, 'echo', big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err.details.maxPayload).toBe(MAX_PAYLOAD);
    await expect(a.send(book, 'note', big)).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(await a.ask(book, 'count')).toBe(0);
  });

  it('a send to a durable actor on another node is acknowledged once journaled there; a retry is recognised', async () => {
    const acct = await b.spawn(ledger, { id: 'acct-1' });
    const first = await a.send(acct, 'deposit', 10, { messageId: 'dep-1' });
    expect(first).toEqual({ messageId: 'dep-1', duplicate: false });
    const retry = await a.send(acct, 'deposit', 10, { messageId: 'dep-1' });
    expect(retry).toEqual({ messageId: 'dep-1', duplicate: true });
    expect(await a.ask(acct, 'balance')).toEqual({ balance: 10, applied: 1 });
  });
});
