// The other process of the cluster benches: node 'peer' with a sink actor, and beside it on the same connection
// setup a raw NATS subscriber and responder (the baseline), so both sides run between the same two processes.
import '../lib/env.ts';
import '../../cluster/index.ts';
import { connect } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { Runtime } from '../../runtime/index.ts';
import { sink } from './actors.ts';

const url = process.argv[2]!;
const packr = new Packr({ useRecords: false });
const rt = await Runtime.start({ workers: 0, cluster: { servers: url, node: 'peer', heartbeatTtlS: 10 } });
await rt.spawn(sink, { id: 'sink' });
const nc = await connect({ servers: url });
let rawCount = 0;
nc.subscribe('bench.raw.tell', { callback: (_err, msg) => {
  packr.unpack(msg.data);
  rawCount++;
} });
nc.subscribe('bench.raw.count', { callback: (_err, msg) => void msg.respond(packr.pack(rawCount)) });
nc.subscribe('bench.raw.ask', { callback: (_err, msg) => void msg.respond(packr.pack(packr.unpack(msg.data) === null ? 0 : rawCount)) });
await nc.flush();
console.log('ready');
process.stdin.resume();
process.stdin.on('end', async () => {
  await nc.drain();
  await rt.shutdown();
  process.exit(0);
});
