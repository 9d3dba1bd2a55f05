import { open, asBinary } from 'lmdb';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lx-'));
const root = open({ path: dir, maxDbs: 8 }); const j = root.openDB('j'); const c = root.openDB('c');
const N = 2000;
const buf = j.encoder.encode({ id: 'm', type: 't', payload: { text: 'x'.repeat(60) } });
for (let i = 0; i < N; i++) j.put(['a', i], asBinary(buf)); await j.flushed;
const T = {};
const time = (k, f) => { const t = performance.now(); const r = f(); T[k] = (T[k] ?? 0) + performance.now() - t; return r; };
for (let rep = 0; rep < 3; rep++) {
  for (const k in T) T[k] = 0;
  const ps = [];
  for (let i = 0; i < N; i++) ps.push(root.childTransaction(() => {
    time('get', () => c.get('a'));
    time('put', () => c.put('a', i));
    time('putBin', () => j.put(['b', i], asBinary(buf)));
    time('getRange1', () => [...j.getRange({ start: ['a', i], end: ['a', i], inclusiveEnd: true })]);
    time('remove', () => j.remove(['b', i]));
    time('doesExist', () => j.doesExist(['a', i]));
  }));
  await Promise.all(ps);
  console.log(Object.fromEntries(Object.entries(T).map(([k, v]) => [k, +(v / N * 1000).toFixed(2) + 'us'])));
}
await root.close(); fs.rmSync(dir, { recursive: true });
