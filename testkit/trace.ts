import { createHash, type Hash } from 'node:crypto';

/** One thing that happened in a simulated run, at a virtual time and scheduling step. */
export interface TraceEvent {
  step: number;
  at: number;
  /** 'deliver', 'handle', 'reply', 'crash', 'restart', 'dead-letter', 'timer', 'fault', 'system' ... */
  what: string;
  actor: string;
  detail: string;
}

/**
 * The record of a run. Its hash folds in every event as it happens (so comparing two runs is comparing two strings);
 * only the last `keep` events are kept for the timeline, so a long fuzz run does not grow without bound.
 */
export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private readonly events: TraceEvent[] = [];
  private count = 0;
  /** Event lines not yet folded into the hash: hashed in bulk (one update per thousand events is much cheaper). */
  private pending: string[] = [];

  constructor(private readonly keep = 10_000) {}

  record(event: TraceEvent): void {
    this.count++;
    this.pending.push(`${event.step}|${event.at}|${event.what}|${event.actor}|${event.detail}\n`);
    if (this.pending.length >= 1024) this.fold();
    if (this.events.length >= this.keep) this.events.shift();
    this.events.push(event);
  }

  get length(): number {
    return this.count;
  }

  /** The hash of every event so far (the same seed and plan give the same hash). */
  digest(): string {
    this.fold();
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  private fold(): void {
    if (this.pending.length === 0) return;
    this.hash.update(this.pending.join(''));
    this.pending = [];
  }

  list(): readonly TraceEvent[] {
    return this.events;
  }

  /** A readable timeline: one line per event, virtual time first. */
  timeline(filter?: (e: TraceEvent) => boolean): string {
    const lines: string[] = [];
    if (this.count > this.events.length) lines.push(`... ${this.count - this.events.length} earlier events not kept`);
    for (const e of this.events) {
      if (filter !== undefined && !filter(e)) continue;
      lines.push(`${formatTime(e.at).padStart(10)}  #${String(e.step).padEnd(6)} ${e.what.padEnd(12)} ${e.actor.padEnd(14)} ${e.detail}`);
    }
    return lines.join('\n');
  }
}

function formatTime(ms: number): string {
  return ms < 10_000 ? `${ms.toFixed(ms % 1 === 0 ? 0 : 1)}ms` : `${(ms / 1000).toFixed(3)}s`;
}

/** A short, stable rendering of a payload for the trace (never throws). */
export function show(value: unknown, max = 60): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let s: string;
  try {
    s = value === undefined ? '' : typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
