import type pg from 'pg';
import type { EventHub } from '../sse/EventHub.js';
import { withEnvelope } from '../sse/EventHub.js';
import type { DeliveredEvent, EventName, Payload } from '../sse/events.js';
import { insertMessageWithEvent } from '../chat/index.js';

/**
 * Room messages in the shared `messages` table (kind 'groupchat', peer = the room's bare JID,
 * stanza_id = the ROOM's XEP-0359 id) and private messages with occupants (kind 'chat', peer = the room).
 * Each row is written with its SSE event in one statement, so history and replay always agree.
 */
export interface RoomMessageRow {
  owner: string;
  kind: 'groupchat' | 'chat';
  direction: 'in' | 'out';
  room: string;
  nick?: string;
  fromJid: string;
  toJid: string;
  body?: string;
  subject?: string;
  data?: unknown;
  messageId?: string;
  stanzaId?: string;
  sentAt?: Date;
}

export interface HistoryQuery {
  room: string;
  owner?: string;
  before?: string;
  after?: string;
  limit: number;
}
/** One stored room message, named as chat's history names things (`id` = its event id, the cursor). */
export interface HistoryMessage {
  id: string;
  type: 'groupchat';
  room: string;
  nick: string | null;
  from: string;
  body: string | null;
  subject?: string;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  timestamp: string;
  direction?: 'in' | 'out';
  attachments?: unknown[];
}
export interface HistoryPage {
  messages: HistoryMessage[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}

interface Row {
  event_id: string;
  direction: 'in' | 'out';
  nick: string | null;
  from_jid: string;
  body: string | null;
  subject: string | null;
  data: unknown;
  message_id: string | null;
  stanza_id: string | null;
  sent_at: Date;
  attachments: unknown;
}

// Attachments live in the message's event (one source for replay and history, as in chat's history).
const COLUMNS = `event_id, direction, nick, from_jid, body, subject, data, message_id, stanza_id, sent_at,
  (SELECT e.payload->'attachments' FROM events e WHERE e.id = messages.event_id) AS attachments`;
// One room message as several Parley users stored it: the room's stanza-id, else sender + message id.
const SAME_MESSAGE = "coalesce(stanza_id, coalesce(nick, '') || '/' || message_id, id::text)";

export class RoomStore {
  constructor(private readonly deps: { db: pg.Pool; hub: EventHub }) {}

  /**
   * Stores the row and its event; undefined when this owner already has the message (same room
   * stanza-id; without one, same sender and message id), which is how history on re-join, archive
   * catch-up and live delivery of one message end up stored once. The caller delivers the event.
   */
  async insert(m: RoomMessageRow, name: EventName, payload: Payload): Promise<DeliveredEvent | undefined> {
    const { room, ...row } = m;
    const stored = await this.deps.hub.ordered(m.owner, () =>
      insertMessageWithEvent(this.deps.db, { ...row, peer: room }, name, payload),
    );
    return stored && withEnvelope(stored);
  }

  /** The room's newest stanza-id this owner holds: where an archive catch-up starts. */
  async lastStanzaId(owner: string, room: string): Promise<string | undefined> {
    const { rows } = await this.deps.db.query<{ stanza_id: string }>(
      `SELECT stanza_id FROM messages WHERE owner = $1 AND peer = $2 AND kind = 'groupchat' AND stanza_id IS NOT NULL
       ORDER BY id DESC LIMIT 1`,
      [owner, room],
    );
    return rows[0]?.stanza_id;
  }

  /**
   * One page of stored room history in the order Parley stored it, event ids as cursors: the newest
   * `limit` messages, or those `before` / `after` a cursor. Without an owner, the room as every Parley
   * user stored it, each message once (the copy stored first stands for it).
   */
  async history(q: HistoryQuery): Promise<HistoryPage> {
    const ascending = q.after !== undefined && q.before === undefined;
    const where = "peer = $1 AND kind = 'groupchat' AND event_id IS NOT NULL";
    const source =
      q.owner !== undefined
        ? { sql: `SELECT ${COLUMNS} FROM messages WHERE owner = $4 AND ${where}`, args: [q.owner] }
        : {
            sql: `SELECT DISTINCT ON (${SAME_MESSAGE}) ${COLUMNS} FROM messages WHERE ${where} ORDER BY ${SAME_MESSAGE}, id`,
            args: [],
          };
    const { rows } = await this.deps.db.query<Row>(
      `SELECT * FROM (${source.sql}) m WHERE ($2::bigint IS NULL OR event_id < $2) AND ($3::bigint IS NULL OR event_id > $3)
       ORDER BY event_id ${ascending ? 'ASC' : 'DESC'} LIMIT ${q.limit + 1}`,
      [q.room, q.before ?? null, q.after ?? null, ...source.args],
    );
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    if (!ascending) page.reverse();
    const messages = page.map((r) => toHistory(q.room, r, q.owner !== undefined));
    return {
      messages,
      page: { limit: q.limit, hasMore, before: messages[0]?.id ?? null, after: messages.at(-1)?.id ?? null },
    };
  }
}

function toHistory(room: string, r: Row, withDirection: boolean): HistoryMessage {
  return {
    id: String(r.event_id),
    type: 'groupchat',
    room,
    nick: r.nick,
    from: r.from_jid,
    body: r.body,
    ...(r.subject !== null ? { subject: r.subject } : {}),
    data: r.data ?? null,
    stanzaId: r.message_id,
    archiveId: r.stanza_id,
    timestamp: r.sent_at.toISOString(),
    ...(withDirection ? { direction: r.direction } : {}),
    ...(Array.isArray(r.attachments) && r.attachments.length ? { attachments: r.attachments } : {}),
  };
}
