import type { Queryable } from '../store/db.js';
import type { DeliveredEvent } from '../sse/events.js';
import type { EventStore } from './EventStore.js';
import type * as T from './types.js';

/**
 * Where the message log hands the events it stored (the event hub fits): `ordered` wraps every write
 * that stores a durable event of the user, `deliver` gets the event as soon as it is stored.
 */
export interface EventSink {
  ordered<R extends { id: string } | undefined>(username: string, write: () => Promise<R>): Promise<R>;
  deliver(username: string, event: DeliveredEvent): void;
}

/**
 * What chat and rooms write. The log stores each message with its SSE event and delivers the event
 * itself (callers never deliver), so it is free to batch concurrent appends into one statement (group
 * commit) and to apply a receipt or read marker when its message is stored, not when it arrived.
 */
export interface MessageWriter {
  /**
   * Stores the row and its event, then delivers the event. Resolves with the delivered event, or
   * undefined when the owner already had the message (same archive id; for rooms without one, same
   * sender and message id): live delivery, carbons and archive catch-up of one message store it once.
   * `beforeCommit` runs after the rows are written and before they are committed: throwing undoes them
   * (an unsendable message leaves nothing behind).
   * `transmit` (a send: the stanza that carries the message) runs *before* the rows are written, which
   * then join the group commit: throwing writes nothing; once it resolved, the append resolves only when
   * the rows are committed, so "201 means stored" holds at one shared statement per send instead of
   * BEGIN + insert + COMMIT. Should the write fail after the stanza went out, the append rejects (the
   * message may have been delivered: the same as a COMMIT failing after the stanza today), and the
   * following sends take the `beforeCommit` path until a write succeeds, so a database that is down
   * refuses messages before they are sent. Receipts for it that arrive meanwhile wait in memory.
   * `answers`: the delivery receipt this row's arrival answers (a recipient's copy of a message whose
   * sender has a session on this instance), recorded as receipt() would once the row is stored — in the
   * row's own statement when it is written alone (both or neither) — and delivered to its owner.
   * `inOrder`: the caller goes on to its next append without waiting for this one (a session's copies,
   * handled as they come: StanzaRouter's deferred work), so the row takes its place in its owner's order
   * as the call is made — nothing is awaited before it is queued.
   */
  append(
    m: T.MessageEntry,
    event: T.EventToStore,
    opts?: {
      beforeCommit?: () => Promise<void>;
      transmit?: () => Promise<void>;
      answers?: T.Receipt;
      inOrder?: boolean;
    },
  ): Promise<DeliveredEvent | undefined>;
  /**
   * Marks an outgoing 1:1 message delivered/displayed and stores + delivers the receipt event.
   * Undefined when it changed nothing now: it already had that status, or its message is not stored
   * (yet) — then the receipt is held for a while and applied (and delivered) once the message is.
   */
  receipt(r: T.Receipt): Promise<DeliveredEvent | undefined>;
  /** Marks every incoming 1:1 message from `peer` up to row `uptoRowId` read; how many changed. */
  markRead(owner: string, peer: string, uptoRowId: string): Promise<number>;
}

/** What chat reads. */
export interface ChatReader {
  /** The newest archive id and time held for the owner's 1:1 archive (the MAM catch-up cursor). */
  archiveCursor(owner: string): Promise<{ stanzaId: string; sentAt: Date } | undefined>;
  /** An incoming 1:1 message by its event id or XMPP id. */
  findIncoming(owner: string, peer: string, ref: string): Promise<T.IncomingRef | undefined>;
  /** An outgoing 1:1 message by its XMPP id: the copy another path (archive, carbon) stored first. */
  findOutgoing(owner: string, peer: string, messageId: string): Promise<T.OutgoingRef | undefined>;
  unread(owner: string): Promise<{ jid: string; count: number }[]>;
  chatHistory(q: T.ChatHistoryQuery): Promise<T.ChatHistoryPage>;
}

/** What rooms (and attachments' access check) read. */
export interface RoomReader {
  /** The room's newest stanza-id this owner holds: where an archive catch-up starts. */
  lastRoomStanzaId(owner: string, room: string): Promise<string | undefined>;
  roomHistory(q: T.RoomHistoryQuery): Promise<T.RoomHistoryPage>;
  /**
   * Does the owner hold the message of one of these rooms that carried the file at `url` (so was in the
   * room when it was posted), without a ban from that room told to their session after the last message
   * they got from it?
   */
  holdsRoomFile(owner: string, rooms: readonly string[], url: string): Promise<boolean>;
}

/** What moderation reads and changes. */
export interface AdminMessageLog {
  adminPage(q: T.AdminQuery): Promise<T.AdminMessagePage>;
  /**
   * Removes every stored copy of the message shown as `id` and blanks its events (so replay does not
   * bring it back); `then` runs in the same transaction (`tx`) to record it. Undefined when there is none.
   */
  deleteMessage<R>(
    id: string,
    then: (deleted: { message: T.AdminMessage; copies: number }, tx: Queryable) => Promise<R>,
  ): Promise<R | undefined>;
  /** The owner's messages with these event ids, oldest first (missing ones are simply absent). */
  ownedByEventIds(owner: string, eventIds: readonly string[]): Promise<T.OwnedMessage[]>;
  /** The newest row id: the live monitor starts after it. */
  newestRowId(): Promise<number>;
  /** Rows with an id above `afterId`, oldest first. */
  rowsAfter(afterId: number, limit: number): Promise<T.MonitorRow[]>;
  /** The operators' attachments-only view. */
  attachmentMessages(q: T.AttachmentMessageQuery): Promise<T.AttachmentMessagePage>;
}

/** Housekeeping of stored messages. */
export interface MessageMaintenance {
  /**
   * Rewrites the attachment entries with these URLs in every stored copy (event payload and
   * `messages.data`): `patch` merged in, `drop` keys removed. `tx` when part of the caller's
   * transaction. Returns how many events changed.
   */
  patchAttachments(
    urls: readonly string[],
    patch: Record<string, unknown>,
    drop?: readonly string[],
    tx?: Queryable,
  ): Promise<number>;
  /** Deletes messages sent before now − `days` and their events, in batches (one transaction each). */
  purge(opts: { days: number; batch?: number; dryRun?: boolean }): Promise<T.PurgeResult>;
}

/**
 * The message log: the only owner of the `messages` and `events` tables. Features get the part they
 * use (`Pick<MessageLog, …>` or one of the role interfaces above); unit tests use FakeMessageLog.
 */
export interface MessageLog
  extends MessageWriter, ChatReader, RoomReader, AdminMessageLog, MessageMaintenance {
  /** durable events of other features (sessions, calls, contacts…) and replay */
  readonly events: EventStore;
}
