import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../../runtime/index.ts';
import type { ActorRef } from '../../../actors/define.ts';
import type { Supervisor } from '../../../supervisors/index.ts';
import { startOpsServer, type OpsServer } from '../../../ops/server.ts';
import { flaky } from '../../fixtures/flaky.ts';
import { durableCounter } from '../../fixtures/durable.ts';
import { until } from './ports.ts';
import { agentTraffic } from './agents.ts';

process.env.TROUPE_LOG_LEVEL ??= 'silent';

/**
 * A small real service for the ops tests: a Runtime on 2 worker threads with LMDB, a supervision tree and the
 * ops server on an ephemeral loopback port.
 *
 *   app (one-for-one)
 *   ├── steady    flaky            handles mail, never fails
 *   ├── crashy    flaky            crash() crashes it; restarted in place
 *   ├── sleepy    flaky            a slow handler behind an ask that times out
 *   ├── ledger    durable-counter  durable mailbox: journal commits, snapshots
 *   └── breakers (one-for-one, open-circuit after 1 restart in 60 s, reset after 60 s)
 *       └── fragile flaky          openCircuit() crashes it twice: its circuit opens and stays open
 *
 * With `agents: true`, also two LLM agents on the main thread and a local model server (support/agents.ts):
 * `agentTraffic()` runs one agent task (a rate limit waited out, a handoff).
 */
export interface Service {
  runtime: Runtime;
  ops: OpsServer;
  tree: Supervisor;
  url: string;
  refs: Record<'steady' | 'crashy' | 'sleepy' | 'fragile', ActorRef<typeof flaky>> & { ledger: ActorRef<typeof durableCounter> };
  /** Some of everything: handled messages of each outcome, asks (one timing out), dead letters, journal writes. */
  traffic(): Promise<void>;
  /** Crash `crashy` once; resolves when the runtime has restarted it. */
  crash(): Promise<void>;
  /** Crash `fragile` until its supervisor opens its circuit; resolves when the tree says so. */
  openCircuit(): Promise<void>;
  /** With `agents: true`: one agent run that meets a 429 and hands its task off (every troupe_agent_* family). */
  agentTraffic(): Promise<void>;
  /** GET a path of the ops server as text (throws on a non-2xx answer). */
  get(path: string): Promise<string>;
  close(): Promise<void>;
}

export async function startService(o: { agents?: boolean } = {}): Promise<Service> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-ops-proof-'));
  const runtime = await Runtime.start({ workers: 2, dataDir, spareWorker: false });
  const closeAgents: Array<() => Promise<void>> = [];
  let ops: OpsServer | undefined;
  try {
    const tree = await runtime.supervise({
      id: 'app',
      strategy: 'one-for-one',
      intensity: { maxRestarts: 100, withinMs: 5000 },
      children: [
        { id: 'steady', actor: flaky, args: { tag: 'steady' } },
        { id: 'crashy', actor: flaky, args: { tag: 'crashy' } },
        { id: 'sleepy', actor: flaky, args: { tag: 'sleepy' } },
        { id: 'ledger', actor: durableCounter },
        {
          id: 'breakers',
          strategy: 'one-for-one',
          onExhausted: 'open-circuit',
          intensity: { maxRestarts: 1, withinMs: 60_000 },
          circuit: { resetMs: 60_000, maxResetMs: 60_000 },
          children: [{ id: 'fragile', actor: flaky, args: { tag: 'fragile' } }],
        },
      ],
    });
    ops = await startOpsServer(runtime, { host: '127.0.0.1', port: 0 });
    const ref = (id: string) => {
      const r = tree.ref<typeof flaky>(id) ?? tree.child('breakers')?.ref<typeof flaky>(id);
      if (!r) throw new Error(`no child ${id} in the tree`);
      return r;
    };
    const refs = {
      steady: ref('steady'), crashy: ref('crashy'), sleepy: ref('sleepy'), fragile: ref('fragile'),
      ledger: ref('ledger') as unknown as ActorRef<typeof durableCounter>,
    };
    const status = (id: string) => allChildren(tree).find((c) => c.id === id)?.status;
    const url = ops.url;
    const service: Service = {
      runtime, ops, tree, url, refs,
      async traffic() {
        for (let i = 0; i < 50; i++) runtime.tell(refs.steady, 'add', 1);
        await runtime.ask(refs.steady, 'get');
        for (let i = 0; i < 20; i++) await runtime.send(refs.ledger, 'inc', undefined);
        await runtime.ask(refs.ledger, 'get');
        // An ask that times out (its handler finishes later, ok).
        await runtime.ask(refs.sleepy, 'slow', 300, { timeoutMs: 20 }).catch(() => undefined);
        // A dead letter: mail for an actor that does not exist.
        runtime.tell({ ...refs.steady, id: 'nobody-home' }, 'add', 1);
      },
      async crash() {
        const before = runtime.crashes().filter((c) => c.actorId === 'crashy').length;
        await runtime.ask(refs.crashy, 'crash', 'ops-proof crash').catch(() => undefined);
        await until('crashy restarted', () => runtime.crashes().filter((c) => c.actorId === 'crashy').length > before && status('crashy') === 'running', 5000, 5);
      },
      async openCircuit() {
        await until('fragile circuit open', async () => {
          if (status('fragile') === 'circuit-open') return true;
          if (status('fragile') === 'running') await runtime.ask(refs.fragile, 'crash', 'ops-proof breaker').catch(() => undefined);
          return false;
        }, 5000, 5);
        // Mail to an open circuit is a dead letter with reason circuit-open.
        runtime.tell(refs.fragile, 'add', 1);
      },
      async agentTraffic() {
        if (!o.agents) throw new Error('startService({ agents: true }) runs agents; this service has none');
        closeAgents.push(await agentTraffic(runtime));
      },
      async get(path) {
        const res = await fetch(`${url}${path}`);
        const body = await res.text();
        if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
        return body;
      },
      async close() {
        await ops?.close();
        await runtime.shutdown();
        for (const c of closeAgents) await c();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    return service;
  } catch (e) {
    await ops?.close();
    await runtime.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

type Child = ReturnType<Supervisor['children']>[number];

/** Every child of a tree, nested supervisors' children included. */
function allChildren(tree: Supervisor): Child[] {
  return tree.children().flatMap((c) => {
    const sub = c.type === 'supervisor' ? tree.child(c.id) : undefined;
    return [c, ...(sub ? allChildren(sub) : [])];
  });
}
