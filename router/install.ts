import type { Route } from '../actors/define.ts';
import type { MemberInfo } from '../actors/context.ts';
import { Runtime } from '../runtime/runtime.ts';
import { registerThreadExtension, type ThreadServices } from '../runtime/extensions.ts';
import { ThreadRouter } from './thread-router.ts';
import { normalRoute } from './route.ts';
import { Pool, type PoolOptions } from './pool.ts';
import type { ActorDefinition } from '../actors/define.ts';

/** Every thread gets its router (runtime/extensions.ts): the main thread now, each worker at boot. */
export function attachToThread(services: ThreadServices): void {
  services.useRouter(new ThreadRouter(services));
}

registerThreadExtension({ module: import.meta.url, attach: attachToThread });

declare module '../runtime/runtime.ts' {
  interface Runtime {
    /**
     * Discovery: the live actors offering `capability` (or a route's capabilities) with their load and health,
     * least loaded first; without an argument, every capability offered, each with its actors.
     */
    capabilities(capability: string | Route): readonly MemberInfo[];
    capabilities(): Record<string, readonly MemberInfo[]>;
    /**
     * A router you can hold: a route (plain data, frozen, validated here) to put in messages and use from any
     * thread, e.g. `runtime.router({ capability: 'code-review', strategy: 'p2c' })`.
     */
    router<R extends Route>(route: R): R;
    /** A supervised pool of `def` between min and max members, scaled by backlog, reached through `pool.route`. */
    pool<D extends ActorDefinition>(def: D, options: PoolOptions<D>): Promise<Pool<D>>;
  }
}

function capabilities(this: Runtime, capability?: string | Route): readonly MemberInfo[] | Record<string, readonly MemberInfo[]> {
  if (capability !== undefined) return this.find(typeof capability === 'string' ? { capability } : capability);
  const all: Record<string, readonly MemberInfo[]> = {};
  for (const cap of this.directoryCapabilities()) all[cap] = this.find({ capability: cap });
  return all;
}

function router<R extends Route>(this: Runtime, route: R): R {
  const frozen = Object.freeze({ ...route });
  normalRoute(frozen);
  return frozen;
}

function pool<D extends ActorDefinition>(this: Runtime, def: D, options: PoolOptions<D>): Promise<Pool<D>> {
  return Pool.start(this, def, options);
}

Object.assign(Runtime.prototype, { capabilities, router, pool });
