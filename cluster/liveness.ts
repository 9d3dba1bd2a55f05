/**
 * Which nodes are alive, from the heartbeats seen (a pure policy: time comes in as arguments). A node is alive
 * from its first heartbeat until `ttlMs` pass without one, or until it says it left.
 */
export class Liveness {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  heard(node: string, now: number): boolean {
    const fresh = !this.lastSeen.has(node);
    this.lastSeen.set(node, now);
    return fresh;
  }

  left(node: string): boolean {
    return this.lastSeen.delete(node);
  }

  alive(node: string): boolean {
    return this.lastSeen.has(node);
  }

  /** Forget nodes silent for longer than the TTL; returns them. */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [node, at] of this.lastSeen) if (now - at > this.ttlMs) gone.push(node);
    for (const node of gone) this.lastSeen.delete(node);
    return gone;
  }

  nodes(): string[] {
    return [...this.lastSeen.keys()];
  }
}
