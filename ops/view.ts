import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime/runtime.ts';
import type { CrashReport } from '../supervisors/supervisor.ts';
import type { Logger } from '../runtime/logger.ts';
import type { OpsContext } from './server.ts';
import { actorStats, supervisionTree } from './tree.ts';
import { CIRCUITS, Names, STATUSES, buildView, diffView, emptyView, snapshotOf, type ViewState } from './view-model.ts';
import { PAGE } from './view-page.ts';

/** How often the view is sampled and a diff sent (ms): a change shows within a second. */
export const TICK_MS = 500;
/** More clients than this get 503: each costs a socket and a share of every tick. */
const MAX_CLIENTS = 16;
/** Crash events sent at once per tick at most (a crash storm is summarised by the next diff's statuses). */
const MAX_CRASHES_PER_TICK = 20;

interface Client {
  res: ServerResponse;
  /** Bytes written to it (the view's cost: see docs/ops.md). */
  bytes: number;
  /** Its socket is backed up: diffs are skipped meanwhile (missed) and it gets the whole view once it drains. */
  stalled: boolean;
  missed: boolean;
}

/**
 * The live view's feed: one sampler per server, running only while someone watches. Each tick reads the tree (main
 * thread) and one stats round over the threads, diffs it against the previous tick and writes the same diff to
 * every client. A new client (or one that fell behind) first gets the whole current view.
 */
export class ViewFeed {
  private readonly clients = new Set<Client>();
  private state: ViewState = emptyView();
  private readonly names = new Names();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private crashes: CrashReport[] = [];
  private readonly offCrash: () => void;
  /** Bytes written to all clients since start (tests and the bench read it). */
  bytesSent = 0;

  constructor(private readonly runtime: Runtime, private readonly logger: Logger) {
    this.offCrash = runtime.onCrash((c) => {
      if (this.clients.size > 0 && this.crashes.length < MAX_CRASHES_PER_TICK) this.crashes.push(c);
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async add(res: ServerResponse): Promise<boolean> {
    if (this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const client: Client = { res, bytes: 0, stalled: false, missed: false };
    this.clients.add(client);
    res.on('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stop();
    });
    res.on('drain', () => {
      client.stalled = false;
      if (!client.missed) return;
      client.missed = false;
      this.write(client, 'snapshot', snapshotOf(this.state, this.names));
    });
    this.write(client, 'hello', { tickMs: TICK_MS, statuses: STATUSES, circuits: CIRCUITS });
    if (this.timer === undefined && !this.sampling) {
      // The first client: sample now; its first diff, against an empty view, is the whole view.
      this.state = emptyView();
      await this.tick();
    } else this.write(client, 'snapshot', snapshotOf(this.state, this.names));
    return true;
  }

  close(): void {
    this.stop();
    this.offCrash();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.clients.size === 0) return;
    this.sampling = true;
    try {
      const stats = await this.runtime.stats({ actors: true });
      const byId = new Map(stats.nodes.flatMap((n) => n.actors.map((a) => [a.id, a] as const)));
      const next = buildView(supervisionTree(this.runtime, byId), stats.nodes, byId, this.names);
      const diff = diffView(this.state, next, this.names);
      this.state = next;
      // A report's `at` is in the runtime's clock (monotonic, from the process start): the page shows wall time.
      const wallOffset = Date.now() - this.runtime.timeSource().now();
      const crashes = this.crashes.splice(0).map((c) => ({ actorId: c.actorId, kind: c.kind, supervisor: c.supervisor, messageType: c.messageType, decision: c.decision, error: c.error.message, at: c.at + wallOffset }));
      for (const client of this.clients) {
        if (client.stalled) {
          client.missed = true;
          continue;
        }
        for (const c of crashes) this.write(client, 'crash', c);
        this.write(client, 'diff', diff);
      }
    } catch (err) {
      if (this.runtime.lifecycle === 'running') this.logger.warn({ err }, 'live view sample failed');
    } finally {
      this.sampling = false;
    }
    if (this.clients.size > 0 && this.runtime.lifecycle !== 'stopped') this.timer = setTimeout(() => void this.tick(), TICK_MS);
  }

  private write(client: Client, event: string, data: unknown): void {
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    const n = Buffer.byteLength(chunk);
    client.bytes += n;
    this.bytesSent += n;
    // Backed up (a slow reader, or one big write): nothing more piles up for it until it drains.
    if (!client.res.write(chunk)) client.stalled = true;
  }
}

export function registerView(app: FastifyInstance, ctx: OpsContext): ViewFeed {
  const feed = new ViewFeed(ctx.runtime, ctx.logger);
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send()); // no icon: no 404 in the browser's console
  app.get('/events', async (req, reply) => {
    reply.hijack();
    if (!(await feed.add(reply.raw))) {
      reply.raw.writeHead(503, { 'content-type': 'application/json' });
      reply.raw.end(JSON.stringify({ error: { code: 'ERR_TOO_MANY_VIEWERS', message: `at most ${MAX_CLIENTS} live views at once` } }));
    }
    void req;
  });
  app.addHook('onClose', async () => feed.close());
  return feed;
}
