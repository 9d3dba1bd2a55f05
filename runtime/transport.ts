import { Op, opArity } from './protocol.ts';

/** Anything we can post to: a Worker, parentPort or a MessagePort of the mesh. */
export interface Port {
  postMessage(value: unknown): void;
}

/** Largest flat batch posted at once; bigger bursts go out as several posts so the receiver can start early. */
const MAX_BATCH = 16_384;

/**
 * Outgoing traffic, coalesced per destination thread: operations are appended to that thread's outbox and posted
 * as one array at the end of the scheduler turn (or at the end of the current task, for sends made outside a
 * turn). Threads talk to each other directly over a MessageChannel mesh; the main thread is not a relay.
 */
export class Transport {
  private outboxes: unknown[][];
  /** Per outbox: the traceparent its Msg operations now carry (the last Op.Trace in it; '' at its start). */
  private lastTraces: string[];
  private flushQueued = false;
  private readonly boundFlush = () => this.flush();

  constructor(
    readonly self: number,
    private readonly ports: (Port | undefined)[],
    private readonly onPostError: (node: number, ops: unknown[], err: unknown) => void,
  ) {
    this.outboxes = ports.map(() => []);
    this.lastTraces = ports.map(() => '');
  }

  /**
   * The outbox to append an Op.Msg carrying `trace` to (as out(node)): an Op.Trace goes first when the outbox's
   * current trace is another. A handler's tells all carry one traceparent, and most messages from outside none: a
   * field per message (even a small number standing for "the same as before") cost a fifth of the worker-to-worker
   * tell figure. The receiver keeps the post's current trace as it reads (Host.apply).
   */
  outTraced(node: number, trace: string): unknown[] {
    const box = this.out(node);
    if (this.lastTraces[node] !== trace) {
      box.push(Op.Trace, trace);
      this.lastTraces[node] = trace;
    }
    return box;
  }

  /** The outbox to append an operation to; `requestFlush` must follow when sending outside a turn. */
  out(node: number): unknown[] {
    if (this.outboxes[node].length >= MAX_BATCH) this.post(node);
    return this.outboxes[node];
  }

  has(node: number): boolean {
    return this.ports[node] !== undefined;
  }

  /** Flush at the end of the current task (microtask): once per burst, not per message. */
  requestFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.boundFlush);
  }

  flush(): void {
    this.flushQueued = false;
    for (let node = 0; node < this.outboxes.length; node++) if (this.outboxes[node].length > 0) this.post(node);
  }

  /** Close every MessagePort (a worker does this last, so its event loop can end). */
  closePorts(): void {
    for (const port of this.ports) (port as { close?: () => void } | undefined)?.close?.();
  }

  connect(node: number, port: Port): void {
    this.ports[node] = port;
    this.outboxes[node] = [];
    this.lastTraces[node] = '';
  }

  /** Forget a thread that is gone; returns what was still waiting for it. */
  disconnect(node: number): unknown[] {
    const pending = this.outboxes[node];
    this.outboxes[node] = [];
    this.lastTraces[node] = '';
    this.ports[node] = undefined;
    return pending;
  }

  private post(node: number): void {
    const ops = this.outboxes[node];
    this.outboxes[node] = [];
    this.lastTraces[node] = '';
    const port = this.ports[node];
    if (port === undefined) return this.onPostError(node, ops, new Error('thread is gone'));
    try {
      port.postMessage(ops);
    } catch (err) {
      // One operation slipped past the send-site checks: post the rest one by one and report the bad ones.
      let trace = '';
      for (let i = 0; i < ops.length; i += 1 + opArity[ops[i] as number]) {
        if (ops[i] === Op.Trace) {
          trace = ops[i + 1] as string;
          continue;
        }
        const one = ops.slice(i, i + 1 + opArity[ops[i] as number]);
        if (one[0] === Op.Msg && trace !== '') one.unshift(Op.Trace, trace); // alone, it starts with no trace
        try {
          port.postMessage(one);
        } catch (e) {
          this.onPostError(node, one, e);
        }
      }
      void err;
    }
  }
}
