// examples/llm-agent.ts: an agent's tool loop against Troupe's local Messages API server (no key needed), a rate
// limit met and waited out on the way. With ANTHROPIC_API_KEY set and no baseURL, the same agent calls Claude.
// Run: npx tsx examples/llm-agent.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../index.ts';
import { startQuotaGovernor } from '../agents/index.ts';
import { rules, startModelServer } from '../agents/model-server/index.ts';
import { dictionary, researcher } from './llm-actors.ts';

// A scripted model: the 2nd request is answered 429 (retry-after 1 s), then it calls the tool, then it answers.
const model = await startModelServer({
  rules: [
    rules.onRequest(2, { error: 'rate_limit', retryAfterS: 1 }),
    rules.callTool('define', { word: 'actor' }),
    rules.answer((v) => `An actor has a mailbox (${v.toolResults().length} tool result used).`),
  ],
});
const runtime = await Runtime.start({ workers: 2, dataDir: mkdtempSync(join(tmpdir(), 'troupe-agent-')) });
await startQuotaGovernor(runtime, { limits: { default: { requestsPerMinute: 50, inputTokensPerMinute: 40_000, outputTokensPerMinute: 8_000 } } });
await runtime.spawn(dictionary, { id: 'dict' });
const agent = await runtime.spawn(researcher, { id: 'r1', args: { endpoint: { baseURL: model.baseURL } } });
const result = await runtime.ask(agent, 'run', { task: 'What is an actor?' }, { timeoutMs: 60_000 });
console.log(result.text);
console.log(`${result.turns} turns, stop: ${result.stopReason}, rate-limited ${result.failures['rate-limited'] ?? 0} time(s)`);
await runtime.shutdown();
await model.close();
