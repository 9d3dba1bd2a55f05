// Run twice with the same data dir: the balance survives the process. Usage: node app.mjs <dataDir> <run>
import { Runtime } from 'troupe';
import { startOpsServer } from 'troupe/ops';
import { account } from './actors.mjs';

const [dataDir, run] = process.argv.slice(2);
const runtime = await Runtime.start({ workers: 2, dataDir });
const acct = await runtime.spawn(account, { id: 'acct', pin: 2 });
const receipt = await runtime.send(acct, 'deposit', 10, { messageId: `deposit-${run}` });
await runtime.send(acct, 'deposit', 10, { messageId: `deposit-${run}` }); // a retry: not applied twice
console.log(`js run ${run}: thread ${acct.node}, journaled ${receipt.messageId}, balance ${await runtime.ask(acct, 'balance')}, ops ${typeof startOpsServer}`);
await runtime.shutdown();
