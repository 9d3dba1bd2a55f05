import { Command, CommanderError } from 'commander';
import { AdminClient, RemoteError, type ClientOptions } from './client.ts';
import { BadRequestError, ConnectError, InvalidTokenError } from './errors.ts';
import { table } from './table.ts';
import type { TreeNode } from './tree.ts';

/** Exit codes of the admin commands. */
export const EXIT = { ok: 0, remote: 1, usage: 2, connect: 3 } as const;

/** Where the commands write and how they end (injected by tests; by default the process's streams). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Set the exit code (the default sets process.exitCode, so pending output is not cut short). */
  exit(code: number): void;
}

const processIo: CliIo = {
  out: (t) => void process.stdout.write(`${t}\n`),
  err: (t) => void process.stderr.write(`${t}\n`),
  exit: (code) => void (process.exitCode = code),
};

/**
 * Thrown out of parseAsync after a usage error (its exit code already set through CliIo.exit): commander would
 * otherwise exit the process itself, with code 1. A bin catches it: `program.parseAsync().catch(ignoreCliExit)`.
 */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function ignoreCliExit(err: unknown): void {
  if (!(err instanceof CliExit)) throw err;
}

interface Common extends ClientOptions {
  json?: boolean;
}

/** Adds the admin commands (actors, tree, inspect, send, ask, circuits, dead-letters, metrics, ...) to `program`. */
export function registerAdminCommands(program: Command, io: CliIo = processIo): void {
  const command = (name: string, description: string) => {
    const cmd = program.command(name).description(description)
      .option('--url <url>', 'admin API base URL (env TROUPE_URL; default http://127.0.0.1:9464)')
      .option('--token <token>', 'admin bearer token for commands that change something (env TROUPE_TOKEN)')
      .option('--token-file <file>', 'read the token from this file (env TROUPE_TOKEN_FILE)')
      .option('--json', 'print JSON for scripts instead of a table')
      .exitOverride((err: CommanderError) => {
        const code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
        io.exit(code);
        throw new CliExit(code);
      })
      .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
    return cmd;
  };
  const run = (fn: (client: AdminClient, opts: Common, args: string[]) => Promise<unknown>) => async (...params: unknown[]) => {
    const cmd = params.at(-1) as Command;
    const opts = cmd.opts<Common>();
    try {
      const client = new AdminClient({ url: opts.url, token: opts.token, tokenFile: opts.tokenFile });
      await fn(client, opts, cmd.processedArgs as string[]);
      io.exit(EXIT.ok);
    } catch (err) {
      io.exit(report(io, err));
    }
  };
  const print = (opts: Common, data: unknown, human: () => string) => io.out(opts.json ? JSON.stringify(data, null, 2) : human());

  command('actors', 'list live actors (id, kind, thread, phase, mailbox depth, messages handled)')
    .option('--kind <kind>', 'only actors of this kind')
    .action(run(async (client, opts) => {
      const kind = (opts as Common & { kind?: string }).kind;
      const { actors } = await client.get<{ actors: Array<Record<string, unknown>> }>(`/api/actors${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`);
      print(opts, actors, () => table(['ID', 'KIND', 'THREAD', 'PHASE', 'MAILBOX', 'HANDLED', 'INCARNATION', 'SUPERVISOR'],
        actors.map((a) => [a.id, a.kind, a.node, a.phase, a.mailboxDepth, a.handled, a.incarnation, a.supervisor])));
    }));

  command('tree', 'show the supervision tree with each actor\'s status, restarts and circuit')
    .action(run(async (client, opts) => {
      const tree = await client.get<{ roots: TreeNode[]; unsupervised: Array<Record<string, unknown>> }>('/api/tree');
      print(opts, tree, () => {
        const lines: string[] = [];
        const walk = (n: TreeNode, depth: number) => {
          const pad = '  '.repeat(depth);
          if (n.type === 'supervisor') lines.push(`${pad}${n.id} [supervisor ${n.strategy}, ${n.status}]`);
          else lines.push(`${pad}${n.id} (${n.kind ?? '?'}) ${n.status}, restarts ${n.restarts ?? 0}, mailbox ${n.mailboxDepth ?? 0}, thread ${n.node ?? '-'}${n.circuit ? `, circuit ${n.circuit.state}` : ''}`);
          for (const c of n.children ?? []) walk(c, depth + 1);
        };
        for (const r of tree.roots) walk(r, 0);
        if (tree.unsupervised.length > 0) lines.push(`(unsupervised: ${tree.unsupervised.length} actor(s); see 'troupe actors')`);
        return lines.length > 0 ? lines.join('\n') : '(no supervisors)';
      });
    }));

  command('inspect', 'one actor: state snapshot, mailbox depth, phase, incarnation, recent crashes')
    .argument('<id>', 'actor id')
    .action(run(async (client, opts, [id]) => {
      const info = await client.get<Record<string, unknown>>(`/api/actors/${encodeURIComponent(id)}`);
      print(opts, info, () => {
        const { state, recentCrashes, messageTypes, ...rest } = info as { state: unknown; recentCrashes: Array<Record<string, unknown>>; messageTypes: string[] };
        const facts = Object.entries(rest).filter(([, v]) => v !== undefined && typeof v !== 'object').map(([k, v]) => [k, v]);
        if ((rest as { circuit?: { state: string } }).circuit) facts.push(['circuit', (rest as { circuit: { state: string } }).circuit.state]);
        const crashes = recentCrashes.length === 0 ? '(none)' : recentCrashes.map((c) => `  ${new Date(c.at as number).toISOString()} on '${c.messageType}': ${(c.error as { message: string }).message} -> ${c.decision}`).join('\n');
        return `${table(['FIELD', 'VALUE'], facts)}\nmessage types: ${messageTypes.join(', ')}\nstate:\n${JSON.stringify(state, null, 2)}\nrecent crashes:\n${crashes}`;
      });
    }));

  const message = (name: 'send' | 'ask', description: string) => command(name, description)
    .argument('<id>', 'actor id')
    .argument('<type>', 'message type')
    .argument('[json]', 'payload as JSON (omit for none)');
  message('send', 'send a message; prints the receipt once it is accepted (journaled, for a durable mailbox)')
    .option('--message-id <id>', 'message id, to make a retry safe')
    .action(run(async (client, opts, [id, type, json]) => {
      const body: Record<string, unknown> = { type, payload: parsePayload(json) };
      const messageId = (opts as Common & { messageId?: string }).messageId;
      if (messageId !== undefined) body.messageId = messageId;
      const res = await client.post<{ receipt: { messageId: string; duplicate: boolean } }>(`/api/actors/${encodeURIComponent(id)}/send`, body);
      print(opts, res, () => `accepted${res.receipt.messageId ? `: message ${res.receipt.messageId}` : ''}${res.receipt.duplicate ? ' (a duplicate: not applied again)' : ''}`);
    }));
  message('ask', 'ask and print the reply')
    .option('--timeout <ms>', 'ask timeout in ms (default 5000)')
    .action(run(async (client, opts, [id, type, json]) => {
      const body: Record<string, unknown> = { type, payload: parsePayload(json) };
      const timeout = (opts as Common & { timeout?: string }).timeout;
      if (timeout !== undefined) body.timeoutMs = Number(timeout);
      const res = await client.post<{ reply: unknown }>(`/api/actors/${encodeURIComponent(id)}/ask`, body);
      print(opts, res, () => JSON.stringify(res.reply, null, 2));
    }));

  for (const [name, description, path, done] of [
    ['stop', 'stop an actor (its current message finishes)', 'stop', 'stopped'],
    ['restart', 'restart a supervised actor (as a crash: counted by its supervisor)', 'restart', 'restarted'],
  ] as const) {
    command(name, description).argument('<id>', 'actor id').action(run(async (client, opts, [id]) => {
      const res = await client.post(`/api/actors/${encodeURIComponent(id)}/${path}`);
      print(opts, res, () => `${done}: ${id}`);
    }));
  }

  command('circuits', 'list supervised actors with a circuit breaker and its state')
    .action(run(async (client, opts) => {
      const { circuits } = await client.get<{ circuits: Array<Record<string, unknown>> }>('/api/circuits');
      print(opts, circuits, () => circuits.length === 0 ? '(no circuits)' : table(['ID', 'SUPERVISOR', 'STATE', 'STATUS', 'TRIPS', 'RESTARTS', 'RETRY IN'],
        circuits.map((c) => [c.id, c.supervisor, c.state, c.status, c.trips, c.restarts, c.retryAt === undefined ? undefined : `${Math.max(0, Math.round((c.retryAt as number) - Date.now()))} ms`])));
    }));
  command('reset-circuit', 'close an open circuit now and restart the actor')
    .argument('<id>', 'actor id')
    .action(run(async (client, opts, [id]) => {
      const res = await client.post(`/api/circuits/${encodeURIComponent(id)}/reset`);
      print(opts, res, () => `circuit reset: ${id}`);
    }));

  command('dead-letters', 'dead letters: counts by reason and the most recent ones')
    .action(run(async (client, opts) => {
      const dl = await client.get<{ counts: Record<string, number>; recent: Array<Record<string, unknown>> }>('/api/dead-letters');
      print(opts, dl, () => {
        const counts = Object.entries(dl.counts);
        const head = counts.length === 0 ? '(no dead letters)' : table(['REASON', 'COUNT'], counts);
        const recent = dl.recent.slice(-20).map((d) => [new Date(d.at as number).toISOString(), d.to, d.type, d.reason, d.node, d.detail]);
        return recent.length === 0 ? head : `${head}\n\nmost recent:\n${table(['AT', 'TO', 'TYPE', 'REASON', 'THREAD', 'DETAIL'], recent)}`;
      });
    }));

  command('cluster', "the cluster's nodes (id, alive, actors hosted, capability members), when the runtime joined one")
    .action(run(async (client, opts) => {
      const c = await client.get<{ configured: boolean; name?: string; node?: string; nodes: Array<Record<string, unknown>> }>('/api/cluster');
      print(opts, c, () => {
        if (!c.configured) return '(no cluster configured: a single-process runtime)';
        const rows = c.nodes.map((n) => [`${n.id as string}${n.self ? ' *' : ''}`, n.alive ? 'yes' : 'no', n.actors, n.members, n.pid ?? '-', n.joinedAt ? new Date(n.joinedAt as number).toISOString() : '-']);
        return `cluster '${c.name}', seen from node ${c.node} (*)\n${table(['NODE', 'ALIVE', 'ACTORS', 'MEMBERS', 'PID', 'JOINED'], rows)}`;
      });
    }));

  command('metrics', 'the Prometheus metrics (troupe_ series; --all adds Node\'s default metrics)')
    .option('--all', 'include the process and Node.js metrics')
    .action(run(async (client, opts) => {
      const text = await client.text('/metrics');
      const all = (opts as Common & { all?: boolean }).all === true;
      const lines = text.split('\n').filter((l) => l !== '' && (all || / troupe_|^troupe_/.test(l)));
      if (!opts.json) return io.out(lines.join('\n'));
      const samples = lines.filter((l) => !l.startsWith('#')).map((l) => {
        const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (.+)$/.exec(l);
        return m ? { name: m[1], labels: parseLabels(m[2]), value: Number(m[3]) } : { raw: l };
      });
      io.out(JSON.stringify(samples, null, 2));
    }));
}

function parsePayload(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch (err) {
    throw new BadRequestError(`the payload is not valid JSON: ${(err as Error).message}`);
  }
}

function parseLabels(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const m of raw.slice(1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return out;
}

/** One line on stderr, and the exit code that says what kind of failure it was. */
function report(io: CliIo, err: unknown): number {
  if (err instanceof ConnectError) {
    io.err(`error: ${err.message}`);
    return EXIT.connect;
  }
  if (err instanceof InvalidTokenError || err instanceof BadRequestError) {
    io.err(`error: ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof RemoteError) {
    io.err(`error: ${err.code}: ${err.message}`);
    return err.status === 401 ? EXIT.usage : EXIT.remote;
  }
  io.err(`error: ${(err as Error)?.message ?? String(err)}`);
  return EXIT.remote;
}
