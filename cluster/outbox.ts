import { ClusterDisconnectedError, NodeLostError } from './errors.ts';

/** One parked message: how to send it once its destination is reachable, and how to fail it. */
export interface Parked {
  send: () => void;
  fail: (err: Error) => void;
}

/** The destination of mail for failover actors: their journal, at the NATS server (no peer to wait for). */
export const JOURNAL = '';

/** At most this many messages are parked per node; more fail at once with ClusterDisconnectedError. */
export const PARK_LIMIT = 10_000;

/**
 * What `whenDisconnected: 'wait'` holds while the connection to NATS is down: messages (and answers) for other
 * nodes and for the journal, per destination in call order. Once the connection is back, each destination is
 * flushed when it is reachable: a peer once it answers a probe on its inbox (it has resubscribed after its own
 * reconnect: a message published before that would reach no one, core NATS keeps nothing), the journal at once.
 * Until a destination's queue is flushed, new mail for it goes behind (`holds`), so the per-pair order is kept.
 * A peer that leaves the cluster meanwhile fails its parked mail with NodeLostError.
 */
export class Outbox {
  private readonly queues = new Map<string, Parked[]>();
  private readonly flushing = new Set<string>();
  private size = 0;

  constructor(
    private readonly connected: () => boolean,
    private readonly alive: (peer: string) => boolean,
    /** Resolves true once `peer` answers on its inbox, false when it did not (yet). */
    private readonly probe: (peer: string) => Promise<boolean>,
    private readonly retryMs = 200,
    private readonly limit = PARK_LIMIT,
  ) {}

  /** Mail for `dest` must be parked: the connection is down, or earlier mail for it is still parked. */
  holds(dest: string): boolean {
    return !this.connected() || this.queues.has(dest);
  }

  park(dest: string, m: Parked): void {
    if (this.size >= this.limit) {
      return m.fail(new ClusterDisconnectedError(`the connection to NATS is down and ${this.limit} messages are parked already`, { details: { parked: this.size } }));
    }
    let q = this.queues.get(dest);
    if (q === undefined) this.queues.set(dest, (q = []));
    q.push(m);
    this.size++;
    if (this.connected()) void this.flush(dest); // parked behind a queue being flushed
  }

  /** The connection is back: flush every destination as it becomes reachable. */
  reconnected(): void {
    for (const dest of this.queues.keys()) void this.flush(dest);
  }

  /** How many messages are parked (diagnostics, tests). */
  get parked(): number {
    return this.size;
  }

  private async flush(dest: string): Promise<void> {
    if (this.flushing.has(dest)) return;
    this.flushing.add(dest);
    try {
      while (this.connected() && this.queues.has(dest)) {
        if (dest !== JOURNAL && !this.alive(dest)) return this.drop(dest, new NodeLostError(`node ${dest} left the cluster while the connection to NATS was down`));
        if (dest === JOURNAL || (await this.probe(dest).catch(() => false))) {
          if (!this.connected()) return; // down again: the next reconnect flushes
          // Synchronously, so nothing new for dest is sent ahead of what waited (holds() is true until the delete).
          const q = this.queues.get(dest) ?? [];
          this.queues.delete(dest);
          this.size -= q.length;
          for (const m of q) m.send();
          return;
        }
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    } finally {
      this.flushing.delete(dest);
    }
  }

  private drop(dest: string, err: Error): void {
    const q = this.queues.get(dest) ?? [];
    this.queues.delete(dest);
    this.size -= q.length;
    for (const m of q) m.fail(err);
  }

  /** Everything parked fails (the node leaves the cluster). */
  close(err: Error): void {
    for (const dest of [...this.queues.keys()]) this.drop(dest, err);
  }
}
