import type { Cell } from './cell.ts';
import type { Envelope } from '../mailbox/envelope.ts';
import { ActorStoppedError, DuplicateMessageError } from './errors.ts';
import { rootLogger } from './logger.ts';
import { UnencodableValueError } from '../persistence/errors.ts';
import type { Host } from './host.ts';
import { MessageIds } from './message-ids.ts';

/** Messages journaled into one commit, as [cell, envelope, ack] triples. */
interface JournalGroup {
  readonly written: Promise<void>;
  readonly entries: Array<Cell | Envelope | boolean>;
}

/**
 * A thread's deliveries into durable mailboxes: each message is journaled first (persistence/group-commit.ts), and
 * acknowledged and queued for its actor once the commit it joined is on disk, so a message is never handled, and
 * nothing it causes happens, before it is durable.
 */
export class Journaling {
  private messageIds: MessageIds | undefined;
  /** The group of the commit now gathering messages (see journal()). */
  private gathering: JournalGroup | undefined;

  constructor(private readonly host: Host) {}

  /**
   * Durable mailbox: journal first, then queue. Appends resolve in call order (one group commit per turn), so
   * messages are queued in the order they arrived. A retried message id is recognised and not applied twice.
   */
  journal(cell: Cell, env: Envelope, ack: boolean): void {
    const p = cell.persistence!;
    const senderGivenId = env.id !== '';
    if (senderGivenId && p.seen(env.id)) {
      const duplicate = () => {
        if (ack) this.host.ackTo(env.replyNode, env.ask, env.id, true);
        else if (env.ask !== 0) this.host.replyError(env, new DuplicateMessageError(`message ${env.id} to ${cell.id} was already received`));
      };
      const original = p.inFlight(env.id);
      // If the original's journal write fails, this retry is journaled in its place: by the actor running under
      // that id then (this one may have stopped meanwhile, and must not journal behind its successor's back).
      if (original !== undefined) original.then(duplicate, () => this.host.redeliver(cell.id, env, ack));
      else duplicate();
      return;
    }
    if (!senderGivenId) env.id = (this.messageIds ??= new MessageIds(this.host.messageIdPrefix())).next();
    const { seq, written } = p.append(env.id, env.type, env.payload, senderGivenId, env.trace);
    env.seq = seq;
    // One callback per commit, not per message: the messages of one commit share its promise (group-commit.ts).
    let group = this.gathering;
    if (group?.written !== written) {
      const g: JournalGroup = { written, entries: [] };
      written.then(
        () => this.journaled(g),
        (err: unknown) => this.journalFailed(g, err as Error),
      );
      group = this.gathering = g;
    }
    group.entries.push(cell, env, ack);
  }

  /** A commit is durable: acknowledge its messages and queue them, in the order they were journaled. */
  private journaled(group: JournalGroup): void {
    if (this.gathering === group) this.gathering = undefined;
    const entries = group.entries;
    for (let i = 0; i < entries.length; i += 3) {
      const cell = entries[i] as Cell;
      const env = entries[i + 1] as Envelope;
      try {
        if (entries[i + 2] === true) {
          this.host.ackTo(env.replyNode, env.ask, env.id, false);
          env.ask = 0;
        }
        if (!cell.stopped) {
          cell.mailbox.offer(env);
          if (cell.runnable()) this.host.scheduler.schedule(cell);
        } else if (env.ask !== 0) {
          // A stopped actor keeps its journal: the message is handled when the actor is started again. An asker
          // is told now rather than at its timeout.
          this.host.replyError(env, new ActorStoppedError(`${cell.id} stopped: message ${env.id} is journaled and will be handled when it starts again`));
        }
      } catch (err) {
        // One message's trouble must not hold back the rest of the commit (and must not kill the thread).
        rootLogger().error({ actor: cell.id, messageId: env.id, err }, 'delivering a journaled message failed');
      }
    }
  }

  private journalFailed(group: JournalGroup, err: Error): void {
    if (this.gathering === group) this.gathering = undefined;
    const entries = group.entries;
    for (let i = 0; i < entries.length; i += 3) {
      const cell = entries[i] as Cell;
      const env = entries[i + 1] as Envelope;
      if (env.ask !== 0) this.host.replyError(env, err);
      // Not journaled, so not acknowledged either: a payload msgpack cannot encode, or a commit that failed.
      const reason = err instanceof UnencodableValueError ? 'not-cloneable' : 'journal-failed';
      this.host.deadLetters.record(cell.id, env.type, env.from, reason, err?.message);
    }
  }
}
