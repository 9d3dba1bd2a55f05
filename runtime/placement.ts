/**
 * Where a new actor goes: a plain function of the request and the current loads (piscina-style balancer), so it
 * is tested without threads. Node 0 is the main thread; workers are 1..workers.
 */
export interface PlacementRequest {
  pin?: number;
  nearNode?: number;
}

export function choosePlacement(req: PlacementRequest, loads: readonly number[], live: (node: number) => boolean): number {
  if (req.pin !== undefined) return req.pin;
  if (req.nearNode !== undefined && live(req.nearNode)) return req.nearNode;
  let best = -1;
  for (let node = 1; node < loads.length; node++) {
    if (live(node) && (best === -1 || loads[node] < loads[best])) best = node;
  }
  return best === -1 ? 0 : best;
}
