// The persistence baseline on a thread of its own (see isolatedRawGroupCommit in lmdb-raw.ts). Plain .mjs that
// registers tsx, as runtime/worker-entry.mjs does, then imports the TypeScript baseline.
import { register } from 'tsx/esm/api';
import { parentPort } from 'node:worker_threads';

register();
const { rawGroupCommit } = await import('./lmdb-raw.ts');

parentPort.on('message', ({ messages, perTurn }) => {
  rawGroupCommit(messages, perTurn).then((rate) => parentPort.postMessage({ rate }), (err) => parentPort.postMessage({ error: String(err) }));
});
