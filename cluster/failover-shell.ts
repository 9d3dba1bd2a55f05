import { defineActor, type ActorDefinition } from '../actors/define.ts';

/** A message type only the failover layer sends: handled after everything before it, changing nothing. */
export const BARRIER = 'troupe:failover-barrier';

/** What an incarnation is spawned with: the actor's own args, and the snapshot state to resume from (if any). */
export interface ShellArgs {
  args: unknown;
  restored?: { state: unknown };
}

const shells = new WeakMap<ActorDefinition, ActorDefinition>();

/**
 * A failover actor's incarnation runs `def` inside this definition: its init resumes from a snapshot when there is
 * one, and it takes the barrier (answered once every message before it is handled: the state is then exactly the
 * journal's fold up to there, what a snapshot records). Its mailbox is unbounded: every message in it was journaled
 * (acknowledged) already, none may be dropped; a bounded mailbox of the actor is a window instead
 * (cluster/incarnation.ts). Made in memory, so incarnations run on the main thread, where
 * their journal feed is (a worker would import the definition from its module, without these two changes). It
 * offers no capabilities: the actor's public id does (cluster/failover.ts), so a route reaches it through its
 * journal; a member under the incarnation's local id took routed mail past the journal on the hosting node.
 */
export function failoverShell(def: ActorDefinition): ActorDefinition {
  let shell = shells.get(def);
  if (shell === undefined) {
    shell = defineActor({
      kind: def.kind,
      init: (a: ShellArgs) => (a.restored !== undefined ? a.restored.state : def.init(a.args)),
      handlers: { ...def.handlers, [BARRIER]: () => undefined },
      onTerminated: def.onTerminated,
      module: def.module,
    } as never);
    shells.set(def, shell);
  }
  return shell;
}
