// examples/persistence.ts: a durable account survives a restart of the runtime. Run: npx tsx examples/persistence.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime/index.ts';
import { account } from './ledger-actors.ts';

const dataDir = process.env.TROUPE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'troupe-example-'));

for (const run of [1, 2]) {
  const runtime = await Runtime.start({ workers: 1, dataDir });
  const acct = await runtime.spawn(account, { id: 'acct-42' }); // same id: resumes from its snapshot
  const receipt = await runtime.send(acct, 'deposit', 10, { messageId: `deposit-${run}` }); // resolves once on disk
  await runtime.send(acct, 'deposit', 10, { messageId: `deposit-${run}` }); // a retry: recognised, not applied
  console.log(`run ${run}: journaled ${receipt.messageId}, balance = ${await runtime.ask(acct, 'balance')}`);
  await runtime.shutdown();
}
