// A submit, for the manager (tasks/manager.ts): the whole batch checked first (capabilities included), then the graph
// gets an actor of its own (tasks/actor/graph-actor.ts) and its tasks, while the registry lists it.
import { nanoid } from 'nanoid';
import type { ActorRef, Runtime } from '../runtime/index.ts';
import { AskTimeoutError } from '../runtime/errors.ts';
import { InvalidGraphOptionError, TaskPayloadNotStorableError, UnknownCapabilityError } from './errors.ts';
import { TaskGraph } from './graph/graph.ts';
import { storableProblem, validateBatch } from './graph/validate.ts';
import { graphOptions, type SubmitSpec } from './options.ts';
import { graphActorId, handoffs, snapshotTaskGraph, taskGraph, volatileTaskGraph, type CreatePayload, type SubmitReply } from './actor/graph-actor.ts';
import { packDefs, type GraphInit } from './actor/record.ts';
import type { GraphEntry } from './actor/registry.ts';
import { unwrap } from './handle.ts';
import type { TaskDef, TaskSpec } from './types.ts';

/** What a submit needs of its manager. */
export interface SubmitHost {
  readonly runtime: Runtime;
  readonly registry: ActorRef;
  readonly listener: ActorRef;
  /** Graphs are durable unless a submit says otherwise. */
  readonly durable: boolean;
  /** Thread for graph actors (default: the runtime's placement). */
  readonly pin: number | undefined;
  readonly askTimeout: number;
  /** Journal graphs' creates sent and not answered yet (createJournaled): the listener's 'created' resolves them. */
  readonly creating: Map<string, (reply: SubmitReply) => void>;
}

/**
 * Check the whole graph, give it an actor, hand it the tasks. Bad input: a named error, nothing submitted. The
 * registry's entry and the graph's tasks are written at the same time: the graph dispatches once its tasks are
 * journaled, and submit returns once both are on disk. A crash between
 * the two leaves either an entry whose graph has no tasks (forgotten by the next start) or tasks nobody lists,
 * which a submit under the same id replaces (that submit never returned).
 */
export async function submitGraph(host: SubmitHost, spec: SubmitSpec): Promise<{ graphId: string; ref: ActorRef }> {
  const options = graphOptions(spec, host.durable);
  const graphId = spec.id ?? nanoid();
  // The whole batch, before anything exists; the graph's actor is handed the definitions made here. A cycle is
  // refused here too under 'reject' (the other policies resolve or keep cycles in the actor).
  // (Storable in LMDB: checked by packing the definitions as the record keeps them, once, below.)
  const defs = validateBatch(spec.tasks, () => false, false);
  if (options.deadlock === 'reject') new TaskGraph({ ...options, graphId }).addDefs(defs.map((d) => ({ ...d, dependsOn: [...d.dependsOn] })), 0);
  let create: CreatePayload = options.durable ? { packed: packedDefs(defs) } : { defs };
  create.waiter = host.listener; // (the manager's done() then needs no 'await')
  await checkCapabilities(host.runtime, spec.tasks);
  const durability = spec.durability ?? 'journal';
  if (durability !== 'journal' && durability !== 'snapshot') throw new InvalidGraphOptionError("graph option durability must be 'journal' or 'snapshot'", { details: { option: 'durability' } });
  const entry: GraphEntry = { durable: options.durable, createdAt: Date.now(), finished: false, durability };
  if (host.pin !== undefined) entry.pin = host.pin;
  const exists = () => new InvalidGraphOptionError(`graph '${graphId}' exists already`, { details: { option: 'id' } });
  const init: GraphInit = { graphId, options, events: spec.events ?? true };
  let ref: ActorRef;
  try {
    ref = await host.runtime.spawn(definitionFor(entry), { id: graphActorId(graphId), args: init, ...(entry.pin !== undefined ? { pin: entry.pin } : {}) });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_DUPLICATE_ACTOR_ID') throw exists();
    throw err;
  }
  const timeout = { timeoutMs: host.askTimeout };
  if (ref.node === 0) {
    // On this thread: the definitions are handed over as they are (an in-memory graph's create then carries none:
    // the kernel's check of a message walked every definition; a durable one's carries them packed, journaled).
    handoffs.set(graphId, defs);
    if (create.defs !== undefined) create = { waiter: create.waiter };
  }
  // The entry is sent (acknowledged once journaled, one commit), not asked for (answered once handled and
  // snapshotted, two): whether the id was free shows in the graph's record, which refuses a second create.
  const [registered, created] = await Promise.allSettled([
    host.runtime.send(host.registry, 'register', { graphId, entry }),
    ref.kind === taskGraph.kind ? createJournaled(host, ref, graphId, create) : (host.runtime.ask(ref, 'create', create, timeout) as Promise<SubmitReply>),
  ]);
  let reply = created.status === 'fulfilled' ? created.value : undefined;
  if (registered.status === 'rejected') {
    if (reply?.ok) host.runtime.tell(ref, 'cancel');
    handoffs.delete(graphId);
    throw registered.reason;
  }
  if (reply !== undefined && !reply.ok && (reply.error.details as { created?: unknown } | undefined)?.created === true) {
    // The id is another graph's, unless the entry is ours: then these are tasks no entry listed, those of a
    // submit that crashed before it returned, and they are replaced.
    const listed = ((await host.runtime.ask(host.registry, 'list')) as Record<string, GraphEntry>)[graphId];
    if (listed?.createdAt !== entry.createdAt || listed.durability !== entry.durability) {
      handoffs.delete(graphId);
      throw exists();
    }
    await host.runtime.ask(ref, 'reset', init, timeout);
    reply = (await host.runtime.ask(ref, 'create', create, timeout)) as SubmitReply;
  }
  handoffs.delete(graphId);
  if (reply === undefined || !reply.ok) host.runtime.tell(host.registry, 'forget', graphId);
  if (created.status === 'rejected') throw created.reason;
  unwrap(reply!);
  return { graphId, ref };
}

/**
 * A journal graph's create, sent (acknowledged once journaled: the tasks are on disk) and answered by a tell as
 * soon as it is handled: an ask would be answered only once the state it made is snapshotted, a commit later.
 */
function createJournaled(host: SubmitHost, ref: ActorRef, graphId: string, create: CreatePayload): Promise<SubmitReply> {
  return new Promise<SubmitReply>((resolve, reject) => {
    let reply: SubmitReply | undefined, acked = false;
    const timer = setTimeout(() => finish(new AskTimeoutError(`graph '${graphId}' did not answer its create within ${host.askTimeout} ms`)), host.askTimeout);
    const finish = (err?: unknown) => {
      if (err === undefined && (reply === undefined || !acked)) return;
      clearTimeout(timer);
      host.creating.delete(graphId);
      if (err !== undefined) reject(err);
      else resolve(reply!);
    };
    host.creating.set(graphId, (r) => ((reply = r), finish()));
    host.runtime.send(ref, 'create', { ...create, replyTo: host.listener }, { timeoutMs: host.askTimeout }).then(() => ((acked = true), finish()), finish);
  });
}

/** Each capability and target once (a graph has many tasks and few of them), in task order for the error. */
export async function checkCapabilities(runtime: Runtime, specs: readonly TaskSpec[]): Promise<void> {
  const seen = new Set<string>(), seenTargets = new Set<string>();
  for (const t of specs) {
    if (t.capability !== undefined && !seen.has(t.capability)) {
      if (runtime.capabilities(t.capability).length === 0) {
        throw new UnknownCapabilityError(`task '${t.id}': no live actor offers capability '${t.capability}'`, { details: { taskId: t.id, capability: t.capability } });
      }
      seen.add(t.capability);
    }
    if (t.target !== undefined && !seenTargets.has(t.target)) {
      if ((await runtime.lookup(t.target)) === undefined) {
        throw new UnknownCapabilityError(`task '${t.id}': target actor '${t.target}' is not running`, { details: { taskId: t.id, target: t.target } });
      }
      seenTargets.add(t.target);
    }
  }
}

/** The actor kind of a registered graph. */
export function definitionFor(entry: GraphEntry): typeof taskGraph {
  if (!entry.durable) return volatileTaskGraph;
  return entry.durability === 'snapshot' ? snapshotTaskGraph : taskGraph;
}

/** A durable graph's definitions packed as its record keeps them; a payload msgpack cannot encode is named. */
function packedDefs(defs: readonly TaskDef[]): Uint8Array[] {
  try {
    return packDefs(defs);
  } catch (err) {
    for (const d of defs) {
      const problem = storableProblem(d.payload, true);
      if (problem !== undefined) throw new TaskPayloadNotStorableError(`task '${d.id}': payload cannot be stored: ${problem}`, { details: { taskId: d.id } });
    }
    throw err;
  }
}
