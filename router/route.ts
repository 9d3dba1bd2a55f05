import type { ActorDefinition, Route } from '../actors/define.ts';
import { InvalidRouteError } from './errors.ts';
import type { Strategy } from './types.ts';

/** A route as the router works with it: validated once, cached by the route object's identity. */
export interface NormalRoute {
  /** Identifies the candidate set: the required and preferred capabilities. */
  readonly setKey: string;
  readonly required: readonly string[];
  readonly prefer: readonly string[];
  readonly strategy: string | Strategy | undefined;
  readonly retry: Readonly<Record<string, unknown>> | false | undefined;
  readonly key: string | undefined;
}

const routeKeys = new Set(['capability', 'prefer', 'key', 'strategy', 'retry', 'id', '__definition']);
const cache = new WeakMap<object, NormalRoute>();

/** Throws InvalidRouteError naming what is wrong. */
export function normalRoute(route: Route): NormalRoute {
  // Only a frozen route can be cached by identity: a caller may reuse and change a plain object between messages.
  if (!Object.isFrozen(route)) return normalise(route);
  const hit = cache.get(route);
  if (hit !== undefined) return hit;
  const normal = normalise(route);
  cache.set(route, normal);
  return normal;
}

function normalise(route: Route): NormalRoute {
  const fail = (why: string): never => {
    throw new InvalidRouteError(`not an actor ref nor a valid route: ${why}`);
  };
  if (typeof route !== 'object' || route === null) fail('expected a ref or { capability }');
  for (const k of Object.keys(route)) if (!routeKeys.has(k)) fail(`unknown route field '${k}'`);
  const required = typeof route.capability === 'string' ? [route.capability] : route.capability;
  if (!Array.isArray(required) || required.length === 0) fail('capability must be a non-empty string or array of strings');
  const prefer = route.prefer ?? [];
  if (!Array.isArray(prefer)) fail('prefer must be an array of capability names');
  for (const c of [...required, ...prefer]) if (typeof c !== 'string' || c.length === 0) fail('capability names are non-empty strings');
  if (route.key !== undefined && (typeof route.key !== 'string' || route.key.length === 0)) fail('key must be a non-empty string');
  if (route.strategy !== undefined && typeof route.strategy !== 'string' && typeof route.strategy !== 'function') fail('strategy must be a strategy name or a function');
  if (route.retry !== undefined && route.retry !== false && (typeof route.retry !== 'object' || route.retry === null)) fail('retry must be a retry policy or false');
  const sortedReq = [...new Set(required as string[])].sort();
  const sortedPref = [...new Set(prefer as string[])].sort();
  return Object.freeze({
    setKey: `${sortedReq.join('\u0000')}\u0001${sortedPref.join('\u0000')}`,
    required: sortedReq,
    prefer: sortedPref,
    strategy: route.strategy as string | Strategy | undefined,
    retry: route.retry,
    key: route.key,
  });
}

/**
 * A route whose target kind is known, so payload and reply types stay inferred:
 * `runtime.ask(route(reviewer, { capability: 'code-review' }), 'review', diff)` is typed by `reviewer`'s handlers.
 * Validated here, at the call site.
 */
export function route<D extends ActorDefinition>(_definition: D, spec: Omit<Route, 'id' | '__definition'>): Route<D> {
  const r = Object.freeze({ ...spec }) as Route<D>;
  normalRoute(r);
  return r;
}
