import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { open } from 'lmdb';
import { ActorStore } from './persistence/index.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lx-'));
const s = ActorStore.open(dir);
// monkeypatch: time spent inside childTransaction callbacks
const root: any = (s as any);
const payload = { text: 'x'.repeat(60), n: 42, ok: true };
const envRoot = open({ path: dir, noSubdir: false, maxDbs: 8, cache: false });
const proto = Object.getPrototypeOf(envRoot);
let inCb = 0; const orig = proto.childTransaction;
proto.childTransaction = function (cb: any) { return orig.call(this, () => { const t = performance.now(); try { return cb(); } finally { inCb += performance.now() - t; } }); };
let tC = 0, tCommitOnly = 0;
for (let turn = 0; turn < 20; turn++) {
  const ps = []; for (let k = 0; k < 1000; k++) ps.push(s.appendJournal('a' + (k % 10), { id: `m${turn}-${k}`, type: 't', payload }));
  const seqs = await Promise.all(ps);
  const before = inCb; let t = performance.now();
  const cs = seqs.map((seq, k) => s.commitHandled('a' + (k % 10), { seq, messageId: `m${turn}-${k}`, snapshot: { version: 1, seq, state: { c: seq }, at: 0 } }));
  await Promise.all(cs); tC += performance.now() - t;
}
console.log({ commitTotal: tC, inCallbacksAll: (globalThis as any).inCb });
await s.close(); await envRoot.close(); fs.rmSync(dir, { recursive: true });
