import { open } from 'lmdb';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lx-'));
const root = open({ path: dir, maxDbs: 8 }); const j = root.openDB('j'); const c = root.openDB('c');
const payload = { text: 'x'.repeat(60), n: 42, ok: true };
const N = 1000;
for (let rep = 0; rep < 5; rep++) {
  let t = performance.now();
  const bufs = []; for (let i = 0; i < N; i++) bufs.push(j.encoder.encode({ id: 'm' + i, type: 't', payload }));
  const tEnc = performance.now() - t;
  t = performance.now();
  const ps = []; for (let i = 0; i < N; i++) ps.push(root.childTransaction(() => 1));
  const tQ = performance.now() - t;
  t = performance.now();
  const fs2 = []; for (let i = 0; i < N; i++) fs2.push(new Promise((r, e) => root.flushed.then(r, e)));
  const tF = performance.now() - t;
  t = performance.now();
  await Promise.all(ps); const tRun = performance.now() - t;
  t = performance.now(); await Promise.all(fs2); const tFl = performance.now() - t;
  console.log({ tEnc, tQ, tF, tRun, tFl });
}
await root.close(); fs.rmSync(dir, { recursive: true });
