import { describe, expect, it } from 'vitest';
import { rules, type RequestView } from '../../agents/model-server/index.ts';
import { chooseReceiver, defineAgent, filterConversation, InvalidAgentDefinitionError, renderBrief, type HandoffContext } from '../../agents/index.ts';
import fs from 'node:fs';
import path from 'node:path';
import { coder, collector, dictionary, dispatcher, tripwire } from './fixtures/team.ts';
import { setup, tempDir } from './helpers.ts';

const local = (baseURL: string) => ({ endpoint: { mode: 'local' as const, baseURL } });
const isCoder = (v: RequestView) => v.request.system === 'You are a coder.';
const handoffInput = (capability: string) => ({
  capability, objective: 'ship the parser', progress: 'looked up the grammar', decisions: ['use a recursive descent parser'],
  artifacts: ['grammar.ebnf'], nextSteps: ['write parse()', 'test it'], reason: 'this needs code',
});

describe('handoff: an agent hands its task to another agent by capability', { timeout: 60_000 }, () => {
  it('transfers the context, the receiver continues, both agents record it durably, events show it', async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when(isCoder, (v) => ({ text: `coded it; brief had ${v.task.includes('recursive descent') ? 'the decisions' : 'nothing'} and ${v.task.includes('[called define') ? 'the conversation' : 'no conversation'}` })),
        rules.callTool('define', { word: 'parser' }),
        rules.when((v) => v.offers('handoff'), { toolUse: { name: 'handoff', input: handoffInput('coding') } }),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const events = await runtime.spawn(collector, { pin: 0 });
    const sender = await runtime.spawn(dispatcher, { id: 'disp', pin: 1, args: local(model.baseURL) });
    const receiver = await runtime.spawn(coder, { id: 'coder-1', pin: 2, args: local(model.baseURL) });
    const result = await runtime.ask(sender, 'run', { task: 'write a parser', runId: 'job-1', notify: events }, { timeoutMs: 30_000 });
    expect(result.text).toBe('coded it; brief had the decisions and the conversation');
    expect(result.stopReason).toBe('handoff');
    expect(result.handedOffTo).toEqual({ id: 'coder-1', kind: 'test.coder', runId: 'job-1>coder-1' });
    expect(result.turns).toBe(2); // define, then handoff: the receiver's turn is its own
    // the receiver started from the brief: task, sender, objective, decisions, artifacts, next steps, conversation
    const brief = (await runtime.ask(receiver, 'conversation'))[0].content as string;
    expect(brief.startsWith('write a parser\n')).toBe(true);
    for (const part of ["test.dispatcher 'disp'", 'Objective: ship the parser', '- use a recursive descent parser', '- grammar.ebnf', '- write parse()', '[called define({"word":"parser"})]', '[tool result: parser: a word of 6 letters]']) {
      expect(brief).toContain(part);
    }
    expect(brief).not.toContain('"capability"'); // the handoff call itself is not transferred
    // recorded in both agents' state, and in their stats
    const sent = await runtime.ask(sender, 'handoffs');
    const got = await runtime.ask(receiver, 'handoffs');
    expect(sent).toEqual([expect.objectContaining({ direction: 'sent', runId: 'job-1', peer: result.handedOffTo, capability: 'coding', objective: 'ship the parser' })]);
    expect(got).toEqual([expect.objectContaining({ direction: 'received', runId: 'job-1>coder-1', peer: { id: 'disp', kind: 'test.dispatcher', runId: 'job-1' }, capability: 'coding' })]);
    expect((await runtime.ask(sender, 'stats')).handoffs).toEqual({ sent: 1, received: 0, refused: 0 });
    expect((await runtime.ask(receiver, 'stats')).handoffs).toEqual({ sent: 0, received: 1, refused: 0 });
    // the conversation of the sender stays valid: the handoff call got its tool_result
    const conv = await runtime.ask(sender, 'conversation');
    expect(JSON.stringify(conv.at(-1))).toContain("handed off to test.coder 'coder-1'");
    const evs = await runtime.ask(events, 'events');
    expect(evs.filter((e) => e.type === 'handoff')).toEqual([expect.objectContaining({ outcome: 'sent', capability: 'coding', to: 'coder-1' })]);
    // asking the same run again: answered from state, the receiver is not asked again
    const requests = model.log.messages.length;
    expect((await runtime.ask(sender, 'run', { task: 'write a parser', runId: 'job-1' })).text).toBe(result.text);
    expect(model.log.messages.length).toBe(requests);
  });

  it('both records survive a restart of the runtime (LMDB)', async () => {
    const first = await setup({
      rules: [rules.when(isCoder, { text: 'done by the coder' }), rules.when((v) => v.offers('handoff'), { toolUse: { name: 'handoff', input: handoffInput('coding') } })],
    });
    await first.runtime.spawn(dictionary, { id: 'dict' });
    const s = await first.runtime.spawn(dispatcher, { id: 'disp2', args: local(first.model.baseURL) });
    await first.runtime.spawn(coder, { id: 'coder-2', args: local(first.model.baseURL) });
    expect((await first.runtime.ask(s, 'run', { task: 'a task', runId: 'r' }, { timeoutMs: 30_000 })).text).toBe('done by the coder');
    await first.runtime.shutdown();
    const again = await setup({ rules: [rules.answer('unused')] }, { dataDir: first.dataDir });
    const s2 = await again.runtime.spawn(dispatcher, { id: 'disp2', args: local(again.model.baseURL) });
    const r2 = await again.runtime.spawn(coder, { id: 'coder-2', args: local(again.model.baseURL) });
    expect((await again.runtime.ask(s2, 'handoffs')).map((h) => `${h.direction}:${h.peer.id}`)).toEqual(['sent:coder-2']);
    expect((await again.runtime.ask(r2, 'handoffs')).map((h) => `${h.direction}:${h.peer.id}`)).toEqual(['received:disp2']);
  });

  it('the sender\'s thread is lost while the receiver works: the sender resumes and asks the same receiver for the same run, which runs once', { timeout: 120_000 }, async () => {
    let coderCalls = 0;
    let senderCalls = 0;
    const { runtime, model } = await setup({
      rules: [
        rules.when(isCoder, () => (coderCalls++, { text: 'the coder finished it', delayMs: 1500 })),
        rules.when((v) => v.offers('handoff'), () => (senderCalls++, { toolUse: { name: 'handoff', input: handoffInput('coding') } })),
      ],
    });
    const marker = path.join(tempDir(), 'tripped');
    await runtime.spawn(dictionary, { id: 'dict', pin: 2 });
    const receiver = await runtime.spawn(coder, { id: 'coder-3', pin: 2, args: local(model.baseURL) });
    const tree = await runtime.supervise({
      id: 'crew', strategy: 'one-for-one',
      children: [{ id: 'wire', actor: tripwire, pin: 1 }, { id: 'disp4', actor: dispatcher, pin: 1, args: local(model.baseURL) }],
    });
    const sender = tree.ref<typeof dispatcher>('disp4')!;
    const first = runtime.ask(sender, 'run', { task: 'a long task', runId: 'job-4' }, { timeoutMs: 30_000 }).catch((e) => e);
    for (let i = 0; i < 2000 && coderCalls === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(coderCalls).toBe(1);
    runtime.tell(tree.ref<typeof tripwire>('wire')!, 'trip', { input: { marker }, idempotencyKey: 'k', toolUseId: 't', agentId: 'test', turn: 0 }); // thread 1 exits
    expect(((await first) as { code?: string }).code).toBe('ERR_WORKER_LOST');
    const deadline = Date.now() + 60_000;
    let result;
    for (;;) {
      try {
        result = await runtime.ask(sender, 'run', { task: 'a long task', runId: 'job-4' }, { timeoutMs: 30_000 });
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_WORKER_LOST' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(result.text).toBe('the coder finished it');
    expect(result.handedOffTo).toEqual({ id: 'coder-3', kind: 'test.coder', runId: 'job-4>coder-3' });
    expect(senderCalls).toBe(1); // the sender's handoff response was in its journal
    expect(coderCalls).toBe(1); // the receiver ran the handed-off task once
    expect((await runtime.ask(receiver, 'stats')).runs).toBe(1);
    expect((await runtime.ask(sender, 'handoffs')).map((h) => `${h.direction}:${h.peer.id}`)).toEqual(['sent:coder-3']);
  });

  it('bad input: no agent offers the capability, or the input is invalid: a named error to the model, the sender keeps its task', async () => {
    let asked = 0;
    const { runtime, model } = await setup({
      rules: [
        rules.when((v) => v.offers('handoff') && asked === 0, () => (asked++, { toolUse: { name: 'handoff', input: handoffInput('nobody') } })),
        rules.when((v) => v.offers('handoff') && asked === 1, () => (asked++, { toolUse: { name: 'handoff', input: { capability: 'coding' } } })),
        rules.answer((v) => `kept it: ${v.toolResults().map((r) => r.content.split(':')[0]).join(', ')}`),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict' });
    const sender = await runtime.spawn(dispatcher, { id: 'disp3', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(sender, 'run', { task: 'a task nobody takes' }, { timeoutMs: 30_000 });
    expect(result.text).toBe('kept it: ERR_HANDOFF_NO_TARGET, ERR_INVALID_HANDOFF');
    expect(result.stopReason).toBe('end_turn');
    expect(result.handedOffTo).toBeUndefined();
    expect((await runtime.ask(sender, 'stats')).handoffs).toEqual({ sent: 0, received: 0, refused: 2 });
    expect(await runtime.ask(sender, 'handoffs')).toEqual([]);
    const conv = JSON.stringify(await runtime.ask(sender, 'conversation'));
    expect(conv).toContain("no other live agent offers capability 'nobody'");
    expect(conv).toContain('The task is still yours');
  });

  it("the receiver's run fails: ERR_HANDOFF_FAILED goes back to the sender's model, which keeps the task and finishes it", async () => {
    const { runtime, model } = await setup({
      rules: [
        rules.when(isCoder, { text: '', stopReason: 'refusal' }), // the receiver's run fails, by name
        rules.when((v) => v.offers('handoff') && !v.hasToolResult('handoff'), { toolUse: { name: 'handoff', input: handoffInput('coding') } }),
        rules.answer((v) => `did it myself after: ${v.toolResults().map((r) => r.content.split(':')[0]).join(', ')}`),
      ],
    });
    await runtime.spawn(dictionary, { id: 'dict' });
    await runtime.spawn(coder, { id: 'refuser', pin: 2, args: local(model.baseURL) });
    const sender = await runtime.spawn(dispatcher, { id: 'disp4', pin: 1, args: local(model.baseURL) });
    const result = await runtime.ask(sender, 'run', { task: 'a task the receiver drops' }, { timeoutMs: 30_000 });
    expect(result.text).toBe('did it myself after: ERR_HANDOFF_FAILED');
    expect(result.handedOffTo).toBeUndefined();
    expect((await runtime.ask(sender, 'stats')).handoffs).toMatchObject({ sent: 0, refused: 1 });
    const conv = JSON.stringify(await runtime.ask(sender, 'conversation'));
    expect(conv).toContain("the handoff to 'refuser' failed");
    expect(conv).toContain('The task is still yours');
  });

  it('the receiver (pure): never the sender nor an agent the task went through, healthy ones first', () => {
    expect(chooseReceiver([{ id: 'a', kind: 'k', node: 1, health: 'healthy' }], 'a', [])).toBeUndefined();
    expect(chooseReceiver([{ id: 'a', kind: 'k', node: 1, health: 'healthy' }, { id: 'b', kind: 'k', node: 1, health: 'open' }, { id: 'c', kind: 'k', node: 2, health: 'healthy' }], 'x', ['a'])?.id).toBe('c');
    expect(chooseReceiver([{ id: 'b', kind: 'k', node: 1, health: 'open' }], 'x', [])?.id).toBe('b');
  });

  it('bad definitions: a tool named handoff next to handoff: true, malformed options', () => {
    const tool = { name: 'handoff', input_schema: { type: 'object' }, actor: 'x' };
    expect(() => defineAgent({ kind: 'k1', model: 'claude-haiku-4-5', handoff: true, tools: [tool], module: import.meta.url })).toThrow(InvalidAgentDefinitionError);
    expect(() => defineAgent({ kind: 'k2', model: 'claude-haiku-4-5', handoff: { capabilities: 'coding' as never }, module: import.meta.url })).toThrow(InvalidAgentDefinitionError);
  });

  it('the filtered conversation and the brief (pure)', () => {
    const lines = filterConversation([
      { role: 'user', content: 'the task' },
      { role: 'assistant', content: [{ type: 'text', text: 'thinking aloud' }, { type: 'tool_use', id: 't1', name: 'search', input: { q: 'x'.repeat(500) } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'found it', is_error: false }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't2', name: 'handoff', input: {} }] },
    ], { maxBlockChars: 20, maxMessages: 3 });
    expect(lines).toEqual([
      { role: 'assistant', text: 'thinking aloud\n[called search({"q":"xxxxxxxxxxxxxx...)]' },
      { role: 'user', text: '[tool result: found it]' },
    ]);
    const h: HandoffContext = { from: { id: 'a', kind: 'k' }, runId: 'r', task: 'T', capability: 'c', objective: 'O', progress: '', decisions: [], artifacts: [], nextSteps: ['n'], conversation: lines, chain: ['a'], at: 0 };
    const brief = renderBrief(h);
    expect(brief).toContain("T\n\n(Handed off to you by k 'a'.)\nObjective: O\nProgress so far: (none)\nNext steps:\n- n\nConversation so far (filtered):\nassistant: thinking aloud");
    expect(brief).not.toContain('Decisions');
  });
});
