import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { ThreadServices } from '../runtime/extensions.ts';
import { errorToData } from '../runtime/errors.ts';
import { encode, Mode } from './codec.ts';
import { ClusterDisconnectedError, PayloadTooLargeError } from './errors.ts';
import type { Remote } from './remote.ts';

/**
 * The sending side of failover actors: any node's mail to one goes into its journal (a JetStream subject per
 * actor), published in call order on one connection, so the journal keeps this node's order per actor. A send is
 * acknowledged once JetStream has it; an ask's answer comes from whoever hosts the actor, on this node's reply
 * subject.
 */
export class JournalWriter {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly self: string,
    private readonly services: ThreadServices,
    private readonly remote: Remote,
    private readonly subject: (id: string) => string,
  ) {}

  write(id: string, type: string, payload: unknown, from: string, ask: number, replyNode: number, messageId: string, ack: boolean): void {
    const mode = ask === 0 ? Mode.Tell : ack ? Mode.Send : Mode.Ask;
    const fail = (err: Error) => {
      if (ask !== 0) this.services.reply(replyNode, ask, false, errorToData(err));
      else this.services.deadLetter(id, type, from, 'worker-lost', err.message);
    };
    if (!this.remote.connected) return fail(new ClusterDisconnectedError(`the connection to NATS is down: cannot journal '${type}' for ${id}`));
    const corr = mode === Mode.Ask ? this.remote.expect(replyNode, ask) : 0;
    let data: Uint8Array;
    try {
      data = encode([mode, type, payload, from, corr, messageId, this.self]);
    } catch (err) {
      this.remote.forget(corr);
      return fail(err as Error);
    }
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > max) {
      this.remote.forget(corr);
      return fail(new PayloadTooLargeError(`'${type}' to ${id} is ${data.length} bytes encoded: the NATS server takes at most ${max}`, { details: { bytes: data.length, maxPayload: max } }));
    }
    this.js.publish(this.subject(id), data, messageId !== '' ? { msgID: messageId } : undefined).then(
      (pubAck) => {
        if (mode === Mode.Send) this.services.reply(replyNode, ask, true, { messageId: messageId !== '' ? messageId : `${this.stream}:${pubAck.seq}`, duplicate: pubAck.duplicate });
      },
      (err: unknown) => {
        this.remote.forget(corr);
        fail(new ClusterDisconnectedError(`'${type}' for ${id} was not journaled: ${(err as Error)?.message ?? err}`));
      },
    );
  }
}
