import { withEnvelope } from '../../src/sse/EventHub.js';
import type { DeliveredEvent, EventName, Payload } from '../../src/sse/events.js';
import type { EventStore, StoredEvent } from '../../src/messages/EventStore.js';
import type { ChatReader, EventSink, MessageWriter, RoomReader } from '../../src/messages/MessageLog.js';
import type {
  ChatHistoryItem,
  MessageEntry,
  Receipt,
  PageInfo,
  RoomHistoryMessage,
} from '../../src/messages/types.js';
import { keysetPage, type PageRequest } from '../../src/store/cursorPage.js';
import { EarlyReceipts, receiptKey } from '../../src/messages/EarlyReceipts.js';

/** A stored message as the fake keeps it. */
export interface FakeRow extends MessageEntry {
  id: number;
  eventId: number;
  sentAt: Date;
  deliveredAt: Date | null;
  displayedAt: Date | null;
}

/** In-memory events of every user, ids from one sequence (as the events table's). */
export class FakeEventStore implements EventStore {
  readonly rows: (StoredEvent & { username: string })[] = [];
  #seq = 0;

  next(): number {
    return ++this.#seq;
  }

  async insert(username: string, name: EventName, payload: Payload): Promise<StoredEvent> {
    return this.add(this.next(), username, name, payload);
  }

  add(id: number, username: string, name: EventName, payload: Payload): StoredEvent {
    const e = { id: String(id), username, name, payload, createdAt: new Date() };
    this.rows.push(e);
    const { username: _u, ...event } = e;
    return event;
  }

  async after(username: string, afterId: string, limit: number): Promise<StoredEvent[]> {
    return this.rows
      .filter((e) => e.username === username && Number(e.id) > Number(afterId))
      .slice(0, limit)
      .map(({ username: _u, ...e }) => e);
  }

  async latestId(username: string): Promise<string> {
    return this.rows.filter((e) => e.username === username).at(-1)?.id ?? '0';
  }
}

/** Records what the log delivered; writes run at once (one process, no reordering to guard against). */
export class RecordingSink implements EventSink {
  readonly delivered: { username: string; event: DeliveredEvent }[] = [];
  ordered<R extends { id: string } | undefined>(_username: string, write: () => Promise<R>): Promise<R> {
    return write();
  }
  deliver(username: string, event: DeliveredEvent): void {
    this.delivered.push({ username, event });
  }
}

const ROOM_KEY = (r: FakeRow) => r.stanzaId ?? `${r.nick ?? ''}/${r.messageId ?? `row${r.id}`}`;

/**
 * The message log in memory, for unit tests of the services that write and read messages (chat, rooms).
 * It keeps the Postgres log's contract: one row + one event per message and owner, duplicates (same
 * archive id; same 1:1 message id; same room sender + id without an archive id) stored once, the event
 * delivered after it is stored, receipts applied once, cursor pages by event id. Full-text search is
 * approximated by a case-insensitive substring match.
 */
export class FakeMessageLog implements MessageWriter, ChatReader, RoomReader {
  readonly rows: FakeRow[] = [];
  readonly events = new FakeEventStore();
  readonly early = new EarlyReceipts<Receipt>();
  #rowSeq = 0;

  constructor(readonly sink: EventSink = new RecordingSink()) {}

  #duplicate(m: MessageEntry): boolean {
    return this.rows.some(
      (r) =>
        r.owner === m.owner &&
        r.peer === m.peer &&
        ((m.stanzaId !== undefined && r.stanzaId === m.stanzaId) ||
          (m.kind !== 'groupchat' &&
            r.kind !== 'groupchat' &&
            m.messageId !== undefined &&
            r.direction === m.direction &&
            r.messageId === m.messageId) ||
          (m.kind === 'groupchat' &&
            r.kind === 'groupchat' &&
            !m.stanzaId &&
            m.messageId !== undefined &&
            r.nick === m.nick &&
            r.messageId === m.messageId)),
    );
  }

  async append(
    m: MessageEntry,
    event: { name: EventName; payload: Payload },
    opts?: { beforeCommit?: () => Promise<void>; transmit?: () => Promise<void>; answers?: Receipt },
  ): Promise<DeliveredEvent | undefined> {
    // transmit goes out before anything is written: throwing leaves nothing behind.
    await opts?.transmit?.();
    const stored = await this.sink.ordered(m.owner, async () => {
      if (this.#duplicate(m)) return undefined;
      // beforeCommit runs before anything is visible: throwing leaves nothing behind.
      await opts?.beforeCommit?.();
      const eventId = this.events.next();
      this.rows.push({
        ...m,
        id: ++this.#rowSeq,
        eventId,
        sentAt: m.sentAt ?? new Date(),
        deliveredAt: null,
        displayedAt: null,
      });
      return this.events.add(eventId, m.owner, event.name, event.payload);
    });
    const result = stored && this.#deliver(m.owner, stored);
    if (opts?.answers) await this.receipt(opts.answers);
    if (result && m.kind !== 'groupchat' && m.direction === 'out' && m.messageId !== undefined)
      for (const r of this.early.take(receiptKey(m.owner, m.peer, m.messageId))) await this.#applyReceipt(r);
    return result;
  }

  async receipt(r: Receipt): Promise<DeliveredEvent | undefined> {
    const release = this.early.hold(receiptKey(r.owner, r.peer, r.messageId), r);
    const e = await this.#applyReceipt(r);
    if (e) release();
    return e;
  }

  async #applyReceipt(r: Receipt): Promise<DeliveredEvent | undefined> {
    const stored = await this.sink.ordered(r.owner, async () => {
      const row = this.rows.find(
        (x) =>
          x.owner === r.owner &&
          x.peer === r.peer &&
          x.direction === 'out' &&
          x.kind !== 'groupchat' &&
          x.messageId === r.messageId &&
          (r.status === 'delivered' ? x.deliveredAt : x.displayedAt) === null,
      );
      if (!row) return undefined;
      const now = new Date();
      if (r.status === 'displayed') row.displayedAt = now;
      row.deliveredAt ??= now;
      return this.events.insert(r.owner, r.name, {
        type: 'receipt',
        status: r.status,
        from: r.from,
        messageId: String(row.eventId),
        stanzaId: r.messageId,
      });
    });
    return stored && this.#deliver(r.owner, stored);
  }

  async markRead(owner: string, peer: string, uptoRowId: string): Promise<number> {
    let n = 0;
    for (const r of this.#incoming(owner, peer))
      if (r.displayedAt === null && r.id <= Number(uptoRowId)) {
        r.displayedAt = new Date();
        n++;
      }
    return n;
  }

  async archiveCursor(owner: string): Promise<{ stanzaId: string; sentAt: Date } | undefined> {
    const newest = this.rows
      .filter((r) => r.owner === owner && r.kind !== 'groupchat' && r.stanzaId)
      .sort((a, b) => b.sentAt.getTime() - a.sentAt.getTime() || b.id - a.id)[0];
    return newest && { stanzaId: newest.stanzaId!, sentAt: newest.sentAt };
  }

  async findIncoming(owner: string, peer: string, ref: string) {
    const byEvent = /^\d{1,18}$/.test(ref);
    const r = this.#incoming(owner, peer).find((x) =>
      byEvent ? x.eventId === Number(ref) : x.messageId === ref,
    );
    return r && { rowId: String(r.id), messageId: r.messageId ?? null, eventId: String(r.eventId) };
  }

  async findOutgoing(owner: string, peer: string, messageId: string) {
    const r = this.rows.find(
      (x) =>
        x.owner === owner &&
        x.peer === peer &&
        x.direction === 'out' &&
        x.kind !== 'groupchat' &&
        x.messageId === messageId,
    );
    return r && { eventId: String(r.eventId), sentAt: r.sentAt };
  }

  async unread(owner: string): Promise<{ jid: string; count: number }[]> {
    const counts = new Map<string, number>();
    for (const r of this.rows)
      if (r.owner === owner && r.direction === 'in' && r.kind !== 'groupchat' && r.displayedAt === null)
        counts.set(r.peer, (counts.get(r.peer) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([jid, count]) => ({ jid, count }));
  }

  async chatHistory(q: Parameters<ChatReader['chatHistory']>[0]) {
    const words = q.keywords?.toLowerCase();
    const rows = this.rows.filter(
      (r) =>
        r.owner === q.owner &&
        (q.room ? r.kind === 'groupchat' && r.peer === q.room : true) &&
        (!q.room && q.peer ? r.kind !== 'groupchat' && r.peer === q.peer : true) &&
        (!words || (r.body ?? '').toLowerCase().includes(words)) &&
        (!q.start || r.sentAt >= q.start) &&
        (!q.end || r.sentAt <= q.end),
    );
    const { items, page } = this.#page(rows, q, true, (r) => this.#chatItem(r));
    return { messages: items, page };
  }

  async lastRoomStanzaId(owner: string, room: string): Promise<string | undefined> {
    return this.rows
      .filter((r) => r.owner === owner && r.peer === room && r.kind === 'groupchat' && r.stanzaId)
      .at(-1)?.stanzaId;
  }

  async roomHistory(q: Parameters<RoomReader['roomHistory']>[0]) {
    const inRoom = this.rows.filter((r) => r.peer === q.room && r.kind === 'groupchat');
    const rows =
      q.owner !== undefined
        ? inRoom.filter((r) => r.owner === q.owner)
        : inRoom.filter((r, i) => inRoom.findIndex((x) => ROOM_KEY(x) === ROOM_KEY(r)) === i);
    const withDirection = q.owner !== undefined;
    const { items, page } = this.#page(rows, q, false, (r) => this.#roomItem(q.room, r, withDirection));
    return { messages: items, page };
  }

  async holdsRoomFile(owner: string, rooms: readonly string[], url: string): Promise<boolean> {
    const payloadOf = (r: FakeRow) => this.events.rows.find((e) => Number(e.id) === r.eventId)?.payload;
    return rooms.some((room) => {
      const held = this.rows.filter((r) => r.owner === owner && r.kind === 'groupchat' && r.peer === room);
      const carries = held.some((r) => {
        const files = payloadOf(r)?.attachments;
        return Array.isArray(files) && files.some((f) => (f as { url?: unknown })?.url === url);
      });
      if (!carries) return false;
      const last = Math.max(...held.map((r) => r.eventId));
      return !this.events.rows.some(
        (e) =>
          e.username === owner &&
          e.name === 'chatapi.muc' &&
          e.payload.type === 'left' &&
          e.payload.cause === 'banned' &&
          String(e.payload.room).toLowerCase() === room &&
          Number(e.id) > last,
      );
    });
  }

  #incoming(owner: string, peer: string): FakeRow[] {
    return this.rows.filter(
      (r) => r.owner === owner && r.peer === peer && r.direction === 'in' && r.kind !== 'groupchat',
    );
  }

  #deliver(owner: string, stored: StoredEvent): DeliveredEvent {
    const event = withEnvelope(stored);
    this.sink.deliver(owner, event);
    return event;
  }

  /** keysetSql's semantics, in memory: the same cursors, order and limit + 1. */
  #page<T>(rows: FakeRow[], q: PageRequest, forwardWhenBoth: boolean, map: (r: FakeRow) => T) {
    const forward = q.after !== undefined && (q.before === undefined || forwardWhenBoth);
    const inRange = rows
      .filter(
        (r) =>
          (q.after === undefined || r.eventId > Number(q.after)) &&
          (q.before === undefined || r.eventId < Number(q.before)),
      )
      .sort((a, b) => (forward ? a.eventId - b.eventId : b.eventId - a.eventId))
      .slice(0, q.limit + 1);
    const p = keysetPage(
      inRange,
      q,
      forward,
      (r) => ({ r, item: map(r) }),
      (x) => String(x.r.eventId),
    );
    const page: PageInfo = { limit: q.limit, hasMore: p.hasMore, before: p.before, after: p.after };
    return { items: p.items.map((x) => x.item), page };
  }

  #chatItem(r: FakeRow): ChatHistoryItem {
    const e = this.events.rows.find((x) => x.id === String(r.eventId));
    const attachments = e?.payload.attachments;
    return {
      id: String(r.eventId),
      type: r.kind,
      direction: r.direction,
      from: r.fromJid,
      to: r.toJid,
      body: r.body ?? null,
      data: r.data ?? null,
      stanzaId: r.messageId ?? null,
      archiveId: r.stanzaId ?? null,
      timestamp: r.sentAt.toISOString(),
      ...(r.kind === 'groupchat' ? { room: r.peer, ...(r.nick ? { nick: r.nick } : {}) } : {}),
      delivered: r.deliveredAt !== null,
      displayed: r.displayedAt !== null,
      ...(Array.isArray(attachments) && attachments.length ? { attachments } : {}),
    };
  }

  #roomItem(room: string, r: FakeRow, withDirection: boolean): RoomHistoryMessage {
    return {
      id: String(r.eventId),
      type: 'groupchat',
      room,
      nick: r.nick ?? null,
      from: r.fromJid,
      body: r.body ?? null,
      ...(r.subject !== undefined ? { subject: r.subject } : {}),
      data: r.data ?? null,
      stanzaId: r.messageId ?? null,
      archiveId: r.stanzaId ?? null,
      timestamp: r.sentAt.toISOString(),
      ...(withDirection ? { direction: r.direction } : {}),
    };
  }
}
