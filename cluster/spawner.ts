import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { Packr } from 'msgpackr';
import type { ActorDefinition, ActorRef } from '../actors/define.ts';
import { isActorDefinition } from '../actors/define.ts';
import { DefinitionLoadError, errorToData, reviveError, type ErrorData } from '../runtime/errors.ts';
import type { RemoteSpawnOptions } from '../runtime/extensions.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { NodeLostError, SpawnTimeoutError, UnknownNodeError } from './errors.ts';
import type { NodeRegistry } from './nodes.ts';
import { chooseNode, type NodeLoad } from './placement.ts';

const packr = new Packr({ useRecords: false, moreTypes: true });

/** A spawn request between nodes, and its answer (1: the ref and the target's spawns taken, 0: the error as ErrorData). */
type SpawnFrame = [id: string | undefined, module: string, kind: string, args: unknown, mailbox: unknown, capabilities: readonly string[] | undefined];
type SpawnReply = [ok: number, value: unknown, spawnsTaken?: number];

/**
 * Spawning on other nodes (`spawn(def, { node })`, least-loaded placement). The caller chooses the node
 * (cluster/placement.ts) and asks it on its spawn subject; the target loads the definition from its module (every
 * node runs the same code) and spawns it locally, which claims the id in the cluster registry. The caller gets a
 * ref to thread 0 of its own node: a message to it goes out through this node's main thread, as for `lookup`.
 */
/** How often a spawn asks again a named node that is alive but not yet taking spawns. */
const START_POLL_MS = 50;

export class Spawner {
  private sub: Subscription | undefined;
  private runtime: Runtime | undefined;
  /**
   * Spawns this node sent to each node that its last record may not count yet: those awaiting their answer, and
   * those answered with the target's spawn number until a record shows that many spawns taken.
   */
  private readonly sent = new Map<string, { joinedAt: number | undefined; inFlight: number; answered: number[] }>();
  private readonly definitions = new Map<string, Promise<ActorDefinition>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: (node: string) => string,
    private readonly self: string,
    private readonly nodes: NodeRegistry,
    private readonly localActors: () => number,
    private readonly defaultPlacement: 'local' | 'least-loaded',
    /** How long a spawn there may take (its id claim, a worker's spawn, the module's first import there). */
    private readonly timeoutMs: number,
  ) {}

  /** Take spawns from other nodes (once the runtime is up: it spawns them). */
  start(runtime: Runtime): void {
    this.runtime = runtime;
    this.sub = this.nc.subscribe(this.subject(this.self), { callback: (err, msg) => void (err === null && this.spawnHere(msg)) });
  }

  /** Every node as placement sees it: alive or not, and its actors (this node's counted live). */
  loads(): Map<string, NodeLoad> {
    const out = new Map<string, NodeLoad>();
    for (const [node, record] of this.nodes.records) {
      const sent = this.sent.get(node);
      let extra = 0;
      if (sent !== undefined) {
        if (sent.joinedAt !== record.joinedAt) [sent.joinedAt, sent.answered] = [record.joinedAt, []]; // a new life: counts anew
        const taken = record.spawnsTaken ?? 0;
        sent.answered = sent.answered.filter((n) => n > taken);
        extra = sent.inFlight + sent.answered.length;
      }
      out.set(node, { alive: this.nodes.alive(node), actors: record.actors + extra });
    }
    out.set(this.self, { alive: true, actors: this.localActors() });
    return out;
  }

  /**
   * The ref of the actor started on the node chosen, or undefined when that is this node. A node placement chose
   * that takes no spawns (it died a moment ago and is still within its TTL) is passed over for the next choice.
   */
  async spawnElsewhere(module: string, kind: string, options: RemoteSpawnOptions): Promise<ActorRef | undefined> {
    const placement = options.placement ?? this.defaultPlacement;
    if (options.node === undefined && placement === 'local') return undefined; // (the common case: no loads to read)
    const frame: SpawnFrame = [options.id, module, kind, options.args, options.mailbox, options.capabilities];
    const passedOver = new Set<string>();
    for (;;) {
      const loads = this.loads();
      for (const node of passedOver) loads.delete(node);
      const choice = chooseNode({ node: options.node, placement }, this.self, loads);
      if ('unknown' in choice) throw new UnknownNodeError(`no node '${choice.unknown}' has joined this cluster`, { details: { node: choice.unknown } });
      if ('down' in choice) throw new NodeLostError(`node '${choice.down}' is not alive (it left or stopped heartbeating)`, { details: { node: choice.down } });
      if (choice.node === this.self) return undefined;
      try {
        return await this.spawnOn(choice.node, kind, frame, options.node !== undefined);
      } catch (err) {
        if (options.node !== undefined || !(err instanceof NodeLostError)) throw err;
        passedOver.add(choice.node);
      }
    }
  }

  /**
   * Spawn on `target`. A node that is alive but not yet taking spawns (it joined and is still starting its workers)
   * is asked again until the spawn timeout when it was named (`waitForStart`); placement passes over it at once.
   */
  private async spawnOn(target: string, kind: string, frame: SpawnFrame, waitForStart: boolean): Promise<ActorRef> {
    let sent = this.sent.get(target);
    if (sent === undefined) this.sent.set(target, (sent = { joinedAt: this.nodes.records.get(target)?.joinedAt, inFlight: 0, answered: [] }));
    sent.inFlight++;
    const deadline = Date.now() + this.timeoutMs;
    let msg: Msg;
    try {
      for (;;) {
        try {
          msg = await this.nc.request(this.subject(target), packr.pack(frame), { timeout: Math.max(1, deadline - Date.now()) });
          break;
        } catch (err) {
          const starting = isNamed(err, 'NoRespondersError', /no responders/i);
          if (!starting || !waitForStart || !this.nodes.alive(target) || Date.now() + START_POLL_MS >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
        }
      }
    } catch (err) {
      if (isNamed(err, 'NoRespondersError', /no responders/i)) {
        if (waitForStart && this.nodes.alive(target)) {
          throw new SpawnTimeoutError(`node '${target}' did not start taking spawns within ${this.timeoutMs} ms (it is alive, still starting)`, { cause: err, details: { node: target } });
        }
        throw new NodeLostError(`node '${target}' takes no spawns (it left, or it is still starting)`, { cause: err, details: { node: target } });
      }
      if (isNamed(err, 'TimeoutError', /timeout/i)) {
        throw new SpawnTimeoutError(`node '${target}' did not confirm the spawn of ${kind} within ${this.timeoutMs} ms (it may still start there)`, { cause: err, details: { node: target } });
      }
      throw err;
    } finally {
      sent.inFlight--;
    }
    const [ok, value, taken] = packr.unpack(msg.data) as SpawnReply;
    if (ok !== 1) throw reviveError(value as ErrorData);
    sent.answered.push(taken ?? 0);
    const ref = value as ActorRef;
    return Object.freeze({ id: ref.id, kind: ref.kind, node: 0 });
  }

  private spawnHere(msg: Msg): void {
    const answer = (reply: SpawnReply) => {
      try {
        msg.respond(packr.pack(reply));
      } catch {
        // closed meanwhile (shutting down): the caller's timeout settles it
      }
    };
    let frame: SpawnFrame;
    try {
      frame = packr.unpack(msg.data) as SpawnFrame;
    } catch (err) {
      return answer([0, errorToData(err)]);
    }
    if (!Array.isArray(frame)) return answer([0, errorToData(new TypeError('not a spawn frame'))]);
    const [id, module, kind, args, mailbox, capabilities] = frame;
    void this.definition(module, kind)
      .then((def) => this.runtime!.spawn(def, { id, args, mailbox: mailbox as never, capabilities, placement: 'local' }))
      .then((ref) => answer([1, { id: ref.id, kind: ref.kind, node: ref.node }, ++this.nodes.spawnsTaken]), (err: unknown) => answer([0, errorToData(err)]));
  }

  private definition(module: string, kind: string): Promise<ActorDefinition> {
    const key = `${module}\0${kind}`;
    let def = this.definitions.get(key);
    if (def === undefined) {
      def = import(module).then((mod: Record<string, unknown>) => {
        const found = Object.values(mod).find((v) => isActorDefinition(v) && v.kind === kind) as ActorDefinition | undefined;
        if (found === undefined) throw new DefinitionLoadError(`${module} exports no actor definition of kind '${kind}' (on node ${this.self})`);
        return found;
      }, (err: unknown) => {
        throw new DefinitionLoadError(`cannot load ${module} on node ${this.self}: ${(err as Error)?.message ?? err}`, { cause: err });
      });
      def.catch(() => this.definitions.delete(key));
      this.definitions.set(key, def);
    }
    return def;
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}

function isNamed(err: unknown, name: string, message: RegExp): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.name === name || message.test(String(e.message))) return true;
  }
  return false;
}
