import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Transport, readTrace } from '../../runtime/transport.ts';
import { Op, opArity } from '../../runtime/protocol.ts';

const RUNS = Number(process.env.TROUPE_FC_RUNS ?? 200);

/** Decode posted batches the way Host.apply reads Op.Msg trace fields (a running "trace of the one before"). */
function decode(posts: unknown[][]): string[] {
  const traces: string[] = [];
  for (const ops of posts) {
    let trace = '';
    for (let i = 0; i < ops.length; i += 1 + opArity[ops[i] as number]) {
      trace = readTrace(ops[i + 6], trace);
      traces.push(trace);
    }
  }
  return traces;
}

describe('trace fields on the wire (SAME_TRACE dedupe per batch)', () => {
  it('every message reads back with the trace it was sent with, untraced ones mixed in', () => {
    const A = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const B = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01';
    fc.assert(fc.property(fc.array(fc.constantFrom(A, B, ''), { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 4 }), (sent, flushes) => {
      const posts: unknown[][] = [];
      const transport = new Transport(0, [undefined, { postMessage: (ops) => posts.push(ops as unknown[]) }], () => undefined);
      sent.forEach((trace, k) => {
        if (flushes.includes(k)) transport.flush(); // batch boundaries anywhere
        transport.out(1).push(Op.Msg, 'to', 'type', k, 'from', 0, transport.traceField(1, trace));
      });
      transport.flush();
      expect(decode(posts)).toEqual(sent);
    }), { numRuns: RUNS });
  });
});
