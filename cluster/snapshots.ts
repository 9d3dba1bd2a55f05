import type { KV, Kvm } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { decode, encode, type SnapshotFrame } from './codec.ts';
import { idToKey } from './keys.ts';
import { isWrongRevision } from './registry.ts';
import { snapshotDecision, type SnapshotDecision, type SnapshotMark } from './snapshot-policy.ts';

/** What the bucket holds for an actor: its state after journal seq `seq` (none yet: `hasState` false, seq 0). */
export interface Snapshot extends SnapshotMark {
  hasState: boolean;
  state: unknown;
}

/**
 * Snapshots of failover actors, one KV key per actor (bucket `troupe_<cluster>_snapshots`), each write a
 * compare-and-set at the revision read, decided by snapshotDecision: a record never goes back to an older token or
 * seq. A new owner first claims the record with its own token (claim()), before it reads the journal: from then on
 * an old owner that resumes after a pause cannot write a snapshot, so it cannot trim the journal past the point the
 * new owner replays from.
 */
export class SnapshotStore {
  private constructor(private readonly kv: KV, private readonly jsm: JetStreamManager, private readonly stream: string, private readonly maxPayload: () => number) {}

  static async open(kvm: Kvm, jsm: JetStreamManager, cluster: string, stream: string, maxPayload: () => number): Promise<SnapshotStore> {
    const kv = await kvm.create(`troupe_${cluster}_snapshots`, { history: 1 });
    return new SnapshotStore(kv, jsm, stream, maxPayload);
  }

  /**
   * Take the record for owner `token` (keeping its state and seq): what to resume from, or 'fenced' when a newer
   * owner holds it already.
   */
  async claim(id: string, token: number): Promise<Snapshot | 'fenced'> {
    let resumeFrom: Snapshot | undefined;
    const outcome = await this.put(id, (held) => {
      resumeFrom = held ?? { token, seq: 0, hasState: false, state: undefined };
      if (held !== undefined && held.token > token) return 'fenced';
      if (held !== undefined && held.token === token) return 'stale'; // claimed already (a retry)
      return { ...resumeFrom, token };
    });
    return outcome === 'fenced' ? 'fenced' : { ...resumeFrom!, token };
  }

  /** Write owner `token`'s state after journal seq `seq`; 'too-large' when it exceeds the server's max_payload. */
  async write(id: string, token: number, seq: number, state: unknown): Promise<'written' | 'too-large' | Exclude<SnapshotDecision, 'write'>> {
    const mine: Snapshot = { token, seq, hasState: true, state };
    const data = this.encoded(mine); // now: the state is encoded as it is at the call
    if (data.length > this.maxPayload()) return 'too-large';
    return this.put(id, (held) => {
      const decision = snapshotDecision(held, mine);
      return decision === 'write' ? data : decision;
    });
  }

  /** Drop the journal's messages for `subject` up to and including `seq` (they are in a written snapshot). */
  async trim(subject: string, seq: number): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: subject, seq: seq + 1 });
  }

  /** Read, decide, compare-and-set; again when someone wrote in between. */
  private async put(id: string, decide: (held: Snapshot | undefined) => Snapshot | Uint8Array | Exclude<SnapshotDecision, 'write'>): Promise<'written' | Exclude<SnapshotDecision, 'write'>> {
    const key = idToKey(id);
    for (let attempt = 0; ; attempt++) {
      const e = await this.kv.get(key);
      const held = e === null || e.operation !== 'PUT' ? undefined : this.decoded(e.value);
      const next = decide(held);
      if (typeof next === 'string') return next;
      const data = next instanceof Uint8Array ? next : this.encoded(next);
      try {
        if (e === null) await this.kv.create(key, data);
        else await this.kv.update(key, data, e.revision);
        return 'written';
      } catch (err) {
        if (!isWrongRevision(err) || attempt >= 10) throw err;
      }
    }
  }

  private encoded(s: Snapshot): Uint8Array {
    return encode([s.token, s.seq, s.hasState ? 1 : 0, s.state]);
  }

  private decoded(data: Uint8Array): Snapshot {
    const [token, seq, hasState, state] = decode<SnapshotFrame>(data);
    return { token, seq, hasState: hasState === 1, state };
  }
}
