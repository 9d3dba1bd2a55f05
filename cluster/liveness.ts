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

  private lastSweep: number | undefined;

  /**
   * Forget nodes silent for longer than the TTL; returns them. Called every fraction of the TTL: a gap of more than
   * the TTL since the last call means this process itself was paused (or starved), and the silence it saw is
   * its own: everyone gets a fresh TTL instead of being declared gone.
   */
  expire(now: number): string[] {
    const paused = this.lastSweep !== undefined && now - this.lastSweep > this.ttlMs;
    this.lastSweep = now;
    if (paused) {
      for (const node of this.lastSeen.keys()) this.lastSeen.set(node, now);
      return [];
    }
    const gone: string[] = [];
    for (const [node, at] of this.lastSeen) if (now - at > this.ttlMs) gone.push(node);
    for (const node of gone) this.lastSeen.delete(node);
    return gone;
  }

  nodes(): string[] {
    return [...this.lastSeen.keys()];
  }
}
