import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { Runtime } from '../../runtime/index.ts';
import '../../cluster/index.ts';
import { startOpsServer, type OpsServer } from '../../ops/server.ts';
import { CliExit, EXIT, registerAdminCommands } from '../../ops/cli.ts';
import { until } from '../ops-proof/support/ports.ts';
import { noNats } from './support/nats.ts';
import { clusterSuite } from './support/suite.ts';
import { notebook } from './fixtures.ts';

/** The admin commands in this process, over HTTP to the real server. */
async function troupe(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  let code = -1;
  const program = new Command('troupe');
  registerAdminCommands(program, { out: (t) => out.push(t), err: (t) => out.push(t), exit: (c) => void (code = c) });
  await program.parseAsync(['node', 'troupe', ...args]).catch((e: unknown) => {
    if (!(e instanceof CliExit)) throw e;
  });
  return { code, out: out.join('\n') };
}

describe.skipIf(noNats)('the cluster in the CLI, the admin API and the web view', () => {
  const suite = clusterSuite({ defaults: { heartbeatEveryMs: 200 }, workers: 1 });
  let a: Runtime;
  let b: Runtime;
  let server: OpsServer;

  beforeAll(async () => {
    a = await suite.node('oa');
    b = await suite.node('ob');
    server = await startOpsServer(a, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("`troupe cluster` lists every node with whether it is alive, its actors and its capability members", async () => {
    await a.spawn(notebook, { id: 'oa-1' });
    await b.spawn(notebook, { id: 'ob-1', capabilities: ['notes'] });
    await b.spawn(notebook, { id: 'ob-2' });
    await until('a has b\'s count', async () => {
      const c = (await (await fetch(`${server.url}/api/cluster`)).json()) as { nodes: Array<{ id: string; actors: number; members: number }> };
      const ob = c.nodes.find((n) => n.id === 'ob');
      return ob?.actors === 2 && ob.members === 1;
    }, 10_000);
    const res = await troupe(['cluster', '--url', server.url]);
    expect(res.code).toBe(EXIT.ok);
    expect(res.out).toContain("cluster 'troupe', seen from node oa");
    expect(res.out).toMatch(/^NODE\s+ALIVE\s+ACTORS\s+MEMBERS\s+PID\s+JOINED/m);
    expect(res.out).toMatch(new RegExp(`^oa \\*\\s+yes\\s+1\\s+0\\s+${process.pid}\\s`, 'm'));
    expect(res.out).toMatch(/^ob\s+yes\s+2\s+1\s/m);
    const json = JSON.parse((await troupe(['cluster', '--json', '--url', server.url])).out);
    expect(json).toMatchObject({ configured: true, name: 'troupe', node: 'oa' });
    expect(json.nodes.map((n: { id: string; alive: boolean }) => `${n.id}:${n.alive}`)).toEqual(['oa:true', 'ob:true']);
    // The web page has the table it fills from the same endpoint.
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toContain('<table id="cluster" hidden>');
    expect(page).toContain("fetch('api/cluster')");
  });

  it('a node that left shows as not alive', async () => {
    await b.shutdown();
    await until('b shows as gone', async () => (await troupe(['cluster', '--url', server.url])).out.match(/^ob\s+no\s/m) !== null, 10_000);
  });

  it('without a cluster: the command says so, the API says configured: false', async () => {
    const solo = await Runtime.start({ workers: 0 });
    const s = await startOpsServer(solo, { port: 0 });
    try {
      const res = await troupe(['cluster', '--url', s.url]);
      expect(res.code).toBe(EXIT.ok);
      expect(res.out).toBe('(no cluster configured: a single-process runtime)');
      expect(await (await fetch(`${s.url}/api/cluster`)).json()).toEqual({ configured: false, nodes: [] });
    } finally {
      await s.close();
      await solo.shutdown();
    }
  });
});
