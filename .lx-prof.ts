import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { ActorStore } from './persistence/index.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lx-'));
const s = ActorStore.open(dir);
const payload = { text: 'x'.repeat(60), n: 42, ok: true };
let tA = 0, tC = 0, tAi = 0, tCi = 0;
for (let turn = 0; turn < 20; turn++) {
  let t = performance.now();
  const ps = []; for (let k = 0; k < 1000; k++) ps.push(s.appendJournal('a' + (k % 10), { id: `m${turn}-${k}`, type: 't', payload }));
  tAi += performance.now() - t;
  const seqs = await Promise.all(ps); tA += performance.now() - t;
  t = performance.now();
  const cs = seqs.map((seq, k) => s.commitHandled('a' + (k % 10), { seq, messageId: `m${turn}-${k}`, snapshot: { version: 1, seq, state: { c: seq }, at: 0 } }));
  tCi += performance.now() - t;
  await Promise.all(cs); tC += performance.now() - t;
}
console.log({ appendIssue: tAi, appendTotal: tA, commitIssue: tCi, commitTotal: tC });
await s.close(); fs.rmSync(dir, { recursive: true });
