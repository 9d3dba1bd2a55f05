import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Transport } from '../../runtime/transport.ts';
import { Op, opArity } from '../../runtime/protocol.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 200);
const A = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const B = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01';

/** Decode posted batches the way Host.apply does: each Op.Msg carries the post's current trace (Op.Trace). */
function decode(posts: unknown[][]): { traces: string[]; fields: number } {
  const traces: string[] = [];
  let fields = 0;
  for (const ops of posts) {
    let trace = '';
    for (let i = 0; i < ops.length; i += 1 + opArity[ops[i] as number]) {
      if (ops[i] === Op.Trace) {
        trace = ops[i + 1] as string;
        fields++;
      } else if (ops[i] === Op.Msg) traces.push(trace);
      else throw new Error(`unexpected op ${String(ops[i])}`);
    }
  }
  return { traces, fields };
}

function transportTo(posts: unknown[][], postMessage = (ops: unknown) => void posts.push(ops as unknown[])) {
  return new Transport(0, [undefined, { postMessage }], () => undefined);
}

describe('trace context on the wire (an Op.Trace when it changes, per post)', () => {
  it('every message reads back with the trace it was sent with, untraced ones mixed in, batch boundaries anywhere', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(A, B, ''), { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 4 }), (sent, flushes) => {
      const posts: unknown[][] = [];
      const transport = transportTo(posts);
      sent.forEach((trace, k) => {
        if (flushes.includes(k)) transport.flush();
        transport.outTraced(1, trace).push(Op.Msg, 'to', 'type', k, 'from', 0);
      });
      transport.flush();
      expect(decode(posts).traces).toEqual(sent);
    }), { numRuns: RUNS });
  });

  it('untraced messages carry no trace field, a run in one trace one field per post', () => {
    const posts: unknown[][] = [];
    const transport = transportTo(posts);
    for (let k = 0; k < 100; k++) transport.outTraced(1, '').push(Op.Msg, 'to', 'type', k, 'from', 0);
    transport.flush();
    expect(decode(posts)).toEqual({ traces: Array(100).fill(''), fields: 0 });
    expect(posts[0]!.length).toBe(100 * (1 + opArity[Op.Msg]));
    posts.length = 0;
    for (let k = 0; k < 100; k++) transport.outTraced(1, A).push(Op.Msg, 'to', 'type', k, 'from', 0);
    transport.flush();
    expect(decode(posts)).toEqual({ traces: Array(100).fill(A), fields: 1 });
  });

  it('a post that fails to clone is sent again one operation at a time, each message with its own trace', () => {
    const posts: unknown[][] = [];
    const transport = transportTo(posts, (ops) => {
      if ((ops as unknown[]).length > 8) throw new Error('could not be cloned'); // the whole batch
      posts.push(ops as unknown[]);
    });
    const sent = [A, A, '', B, B, A];
    sent.forEach((trace, k) => transport.outTraced(1, trace).push(Op.Msg, 'to', 'type', k, 'from', 0));
    transport.flush();
    expect(posts.length).toBe(sent.length);
    expect(decode(posts).traces).toEqual(sent);
  });
});
