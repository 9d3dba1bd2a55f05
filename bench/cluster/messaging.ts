// Cluster figures C1-C2: tells and asks from this process (node 'bench') to an actor of another process (node
// 'peer', bench/cluster/peer.ts), against raw NATS publish / request-reply of the same msgpack payloads between
// the same two processes, interleaved in one run. A real nats-server (Debian's) runs on a free loopback port.
import '../lib/env.ts';
import '../../cluster/index.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { Runtime } from '../../runtime/index.ts';
import { NatsServer } from '../../test/cluster/support/nats.ts';
import { emit, interleave } from '../lib/measure.ts';
import { makePairedRow, makeRow } from '../lib/rows.ts';
import { sequentialLatency } from '../lib/stats.ts';
import type { sink } from './actors.ts';
import type { ActorRef } from '../../actors/define.ts';

const N = 50_000;
const ASKS = 2_000;
const payload = (i: number) => ({ i, text: 'a message of about fifty characters, like a small event' });

const nats = await NatsServer.start();
const peer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./peer.ts', import.meta.url)), nats.url], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
  peer.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
  peer.once('exit', (code) => reject(new Error(`peer exited ${code}`)));
});

const rt = await Runtime.start({ workers: 0, cluster: { servers: nats.url, node: 'bench', heartbeatTtlS: 10 } });
const target = (await rt.lookup('sink')) as ActorRef<typeof sink>;
const nc = await connect({ servers: nats.url });
const packr = new Packr({ useRecords: false });
let sent = 0;
let rawSent = 0;

const runs = await interleave({ warmup: 1, runs: 5 }, {
  async troupe() {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) rt.tell(target, 'add', payload(i));
    sent += N;
    const count = await rt.ask(target, 'get', undefined, { timeoutMs: 60_000 });
    if (count !== sent) throw new Error(`sink counted ${count}, expected ${sent}`);
    return N / ((performance.now() - t0) / 1000);
  },
  async raw() {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) nc.publish('bench.raw.tell', packr.pack(payload(i)));
    rawSent += N;
    const count = packr.unpack((await nc.request('bench.raw.count', packr.pack(null), { timeout: 60_000 })).data);
    if (count !== rawSent) throw new Error(`raw subscriber counted ${count}, expected ${rawSent}`);
    return N / ((performance.now() - t0) / 1000);
  },
});
const asks = await interleave({ warmup: 1, runs: 5 }, {
  troupe: () => sequentialLatency(ASKS, () => rt.ask(target, 'get')),
  raw: () => sequentialLatency(ASKS, () => nc.request('bench.raw.ask', packr.pack(1), { timeout: 5000 })),
});

await nc.drain();
await rt.shutdown();
peer.stdin!.end();
await new Promise((r) => peer.once('exit', r));
await nats.stop();

emit({
  rows: [
    makePairedRow({ figure: 'C1. cross-node tell throughput (one sender, one actor, ~80 B payloads)', unit: 'msg/s', baselineName: 'raw NATS publish, same payloads, same processes', target: { on: 'ratio', op: '>=', value: 0.5 }, runs: { troupe: runs.troupe, baseline: runs.raw } }),
    makeRow({ figure: 'C2. cross-node ask p50', unit: 'us', baselineName: 'raw NATS request-reply', target: { on: 'ratio', op: '<=', value: 1.5 }, runs: { troupe: asks.troupe.map((l) => l.p50), baseline: asks.raw.map((l) => l.p50) } }),
  ],
});
