import { open, asBinary } from 'lmdb';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lx-'));
const root = open({ path: dir, maxDbs: 8 }); const j = root.openDB('j');
const N = 2000;
const buf = j.encoder.encode({ id: 'm', type: 't', payload: { text: 'x'.repeat(60) } });
for (let i = 0; i < N; i++) j.put(['a', i], asBinary(buf)); await j.flushed;
const T = {};
const time = (k, f) => { const t = performance.now(); const r = f(); T[k] = (T[k] ?? 0) + performance.now() - t; return r; };
for (let rep = 0; rep < 4; rep++) {
  for (const k in T) T[k] = 0;
  const ps = [];
  for (let i = 0; i < N; i++) ps.push(root.childTransaction(() => {
    time('getRange1', () => { for (const e of j.getRange({ start: ['a', i], end: ['a', i], inclusiveEnd: true })) {} });
    time('getKeysLimit1', () => { for (const e of j.getKeys({ start: ['a', i], limit: 1 })) {} });
    time('getRangeEmpty', () => { for (const e of j.getRange({ start: ['zz', 0], end: ['zz', 5] })) {} });
  }));
  await Promise.all(ps);
  for (let i = 0; i < N; i++) {
    time('readTxn getRange1', () => { for (const e of j.getRange({ start: ['a', i], end: ['a', i], inclusiveEnd: true })) {} });
  }
  console.log(Object.fromEntries(Object.entries(T).map(([k, v]) => [k, +(v / N * 1000).toFixed(2) + 'us'])));
}
await root.close(); fs.rmSync(dir, { recursive: true });
