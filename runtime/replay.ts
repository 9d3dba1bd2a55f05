// Replaying a restored journal without looping on a poison message (persistence/poison.ts for the policy).
//
// The head of a restored journal is queued as a '$replay' probe. When the actor takes it (once it runs: a stand-in
// waits for its supervisor), the actor holds its mail (cell.replaying) while
//   1. the head's replays begun so far are read and the policy decides;
//   2. deliver: the new count is written and flushed, and only then is the message handed to its handler, as an
//      internal ask, whose answer comes once the state change it caused is on disk (a crash: once the message's
//      consumption is flushed); only then does the rest of the mail flow. Were the rest to flow earlier, a later
//      message could kill the thread before the head's outcome is on disk, and the innocent head take the blame;
//   3. poison: the message is stored in the `poison` table, then consumed with the state unchanged (a snapshot at
//      its seq, as for a handler that throws), and becomes a dead letter with the reason 'poison'.
// A crash anywhere in 2 is safe: before the count is on disk the handler has not run (the old count stands); after,
// the count includes this try. A crash in 3 between the two writes stores it again at the next recovery (same key).
//
// Several actors of one thread recover together when a thread is lost, and one poison message kills them all:
// without care every head on the thread would be counted each time and all be set aside. So a head replayed before
// (a suspect) is tried alone: one suspect at a time per thread, the next once the previous one's outcome is on
// disk. Heads tried for the first time go at once (a lost thread of many durable actors recovers in one commit).
import { envelope, type Envelope } from '../mailbox/envelope.ts';
import { DEFAULT_POISON_AFTER, replayVerdict, type DeliveryRecord } from '../persistence/poison.ts';
import type { JournalEntry } from '../persistence/store.ts';
import { SYS_REPLAY, SYS_STOP, SYS_TERMINATED, type Cell } from './cell.ts';
import type { Host } from './host.ts';
import { rootLogger } from './logger.ts';
import { parseTraceparent } from './tracing.ts';

/** How long a suspect head has the thread to itself before the next suspect may start (see nextSuspect). */
export const SUSPECT_TURN_MS = 1000;

/** Queue a restored journal in the actor's mailbox, oldest first, its head as the '$replay' probe. */
export function queueJournal(cell: Cell, journal: readonly JournalEntry[], node: number): void {
  for (let i = 0; i < journal.length; i++) {
    const entry = journal[i];
    const env = i === 0 ? envelope(SYS_REPLAY, entry, '', 0, node, entry.id) : envelope(entry.type, entry.payload, '', 0, node, entry.id, traceOf(entry));
    env.seq = entry.seq;
    cell.mailbox.offer(env);
  }
}

/** One thread's replays of restored journal heads (see above). */
export class Replays {
  /** Suspect heads waiting for their turn; `suspectBusy` while one is being tried. */
  private readonly suspects: Array<(done: () => void) => void> = [];
  private suspectBusy = false;

  constructor(private readonly host: Host) {}

  /** The actor took its '$replay' probe: hold its mail, then deliver the head or set it aside. */
  begin(cell: Cell, probe: Envelope): void {
    const entry = probe.payload as JournalEntry;
    cell.replaying = true;
    let recorded: DeliveryRecord | undefined;
    try {
      recorded = this.host.store().deliveryRecord(cell.id);
    } catch (err) {
      rootLogger().error({ actor: cell.id, err }, 'cannot read the delivery count: replaying as a first try');
    }
    const verdict = replayVerdict(entry.seq, recorded, cell.def.persistence?.poisonAfter ?? DEFAULT_POISON_AFTER);
    if (verdict.action === 'poison') return this.setAside(cell, entry, verdict.attempts);
    if (!verdict.suspect) return this.deliver(cell, probe, verdict.attempts, () => undefined);
    this.suspects.push((done) => this.deliver(cell, probe, verdict.attempts, done));
    this.nextSuspect();
  }

  /**
   * Start the next suspect unless one is being tried. A suspect that takes longer than SUSPECT_TURN_MS (a slow
   * async handler, a hung one without handlerTimeoutMs) lets the next one start: one slow replay must not hold up
   * the recovery of every actor of the thread (if it kills the thread after that, the next one is counted too).
   */
  private nextSuspect(): void {
    if (this.suspectBusy) return;
    const next = this.suspects.shift();
    if (next === undefined) return;
    this.suspectBusy = true;
    let over = false;
    const done = () => {
      if (over) return;
      over = true;
      this.host.clock.clearTimer(timer);
      this.suspectBusy = false;
      this.nextSuspect();
    };
    const timer = this.host.clock.setTimer(done, SUSPECT_TURN_MS);
    next(done);
  }

  private deliver(cell: Cell, probe: Envelope, attempts: number, done: () => void): void {
    if (cell.stopped) return done();
    const entry = probe.payload as JournalEntry;
    const handOver = () => {
      if (cell.stopped) return done();
      // Restarted into backoff or an open circuit meanwhile (a group restart): the probe waits at the head again.
      if (cell.phase === 'restarting' || cell.phase === 'open') {
        requeueFirst(cell, probe);
        return this.release(cell, done);
      }
      const { ask, outcome } = this.host.localReply();
      const env = envelope(entry.type, entry.payload, '', ask, this.host.node, entry.id, traceOf(entry));
      env.seq = entry.seq;
      cell.handle(env);
      const settled = (err?: { code?: string; message?: string }) => {
        // Answered to our internal ask instead of being dead-lettered: recorded as a plain tell's would be.
        if (err?.code === 'ERR_UNKNOWN_MESSAGE_TYPE') this.host.deadLetters.record(cell.id, entry.type, '', 'unknown-message-type');
        // A success is already on disk (the ask waited for it); a crash's consumption is written now.
        void Promise.resolve(cell.persistence?.flush()).then(() => this.release(cell, done));
      };
      outcome.then(() => settled(), settled);
    };
    this.host.store().recordDelivery(cell.id, { seq: entry.seq, attempts }).then(handOver, (err: unknown) => {
      // Without a count a loop is possible, but holding the actor forever is worse; the store is failing anyway.
      rootLogger().error({ actor: cell.id, seq: entry.seq, err }, 'cannot record a replay: delivering it uncounted');
      handOver();
    });
  }

  private setAside(cell: Cell, entry: JournalEntry, attempts: number): void {
    const p = cell.persistence!;
    const { seq, id, type, payload } = entry;
    // Stored before it is consumed: a crash in between stores it again (same key), never loses it.
    this.host.store().putPoison(cell.id, { seq, id, type, payload, attempts, at: Date.now(), trace: traceOf(entry) }).then(
      () => {
        if (cell.stopped) return; // still in the journal: set aside again at the next start
        rootLogger().warn({ actor: cell.id, seq, messageId: id, type, attempts }, 'poison message set aside');
        this.host.deadLetters.record(cell.id, type, '', 'poison', `replayed ${attempts} times without completing`);
        const consumed = p.handled(seq, p.lastState, true) ?? Promise.resolve();
        cell.succeeded(); // a trial ends: what kept failing is out of the way
        void consumed.then(() => this.release(cell, () => undefined), () => this.release(cell, () => undefined));
      },
      (err: unknown) => {
        // Not released: handing the head over would loop, and moving past it would lose it. The actor holds its
        // mail (a stop still works; the message stays in the journal for the next start).
        rootLogger().error({ actor: cell.id, seq, err }, 'cannot store a poison message: the actor holds its mail');
      },
    );
  }

  private release(cell: Cell, done: () => void): void {
    cell.replaying = false;
    if (cell.runnable()) this.host.scheduler.schedule(cell);
    done();
  }
}

/** The trace a journaled message carried, when it is valid W3C trace context ('' otherwise: its replay starts a new trace). */
function traceOf(message: { readonly trace?: string }): string {
  return parseTraceparent(message.trace) ?? '';
}

/** Put the probe back at the head of the mailbox (system messages keep going first). */
function requeueFirst(cell: Cell, probe: Envelope): void {
  const rest = cell.mailbox.drain();
  cell.mailbox.offer(probe);
  for (const env of rest) {
    if (env.type === SYS_STOP || env.type === SYS_TERMINATED) cell.mailbox.offerSystem(env);
    else cell.mailbox.offer(env);
  }
}
