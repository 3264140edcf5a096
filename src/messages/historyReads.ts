import type { Statement, TimedDb } from '../store/TimedDb.js';
import { keysetPage, keysetSql, SqlArgs } from '../store/cursorPage.js';
import { ISO_TIMESTAMPS } from '../store/isoTimestamps.js';
import type { ChatReader, RoomReader } from './MessageLog.js';
import type { ChatHistoryItem, ChatHistoryQuery, RoomHistoryMessage } from './types.js';

// Attachments live in the message's event (one source for replay and history).
const ATTACHMENTS_OF_EVENT = `(SELECT e.payload->'attachments' FROM events e WHERE e.id = messages.event_id) AS attachments`;

interface ChatRow {
  event_id: string;
  kind: string;
  direction: 'in' | 'out';
  from_jid: string;
  to_jid: string;
  body: string | null;
  data: unknown;
  message_id: string | null;
  stanza_id: string | null;
  /** timestamps as ISO strings (ISO_TIMESTAMPS) */
  sent_at: string;
  peer: string;
  nick: string | null;
  delivered_at: string | null;
  displayed_at: string | null;
  attachments: unknown;
}

interface RoomRow {
  event_id: string;
  direction: 'in' | 'out';
  nick: string | null;
  from_jid: string;
  body: string | null;
  subject: string | null;
  data: unknown;
  message_id: string | null;
  stanza_id: string | null;
  /** an ISO string (ISO_TIMESTAMPS) */
  sent_at: string;
  attachments: unknown;
}

// One room message as several Parley users stored it: the room's stanza-id, else sender + message id.
const SAME_ROOM_MESSAGE = "coalesce(stanza_id, coalesce(nick, '') || '/' || message_id, id::text)";

export function createPgChatReader(db: TimedDb): ChatReader {
  return {
    async archiveCursor(owner) {
      const { rows } = await db.run<{ stanza_id: string; sent_at: Date }>(
        {
          name: 'archive_cursor',
          text: `SELECT stanza_id, sent_at FROM messages WHERE owner = $1 AND kind <> 'groupchat' AND stanza_id IS NOT NULL
                 ORDER BY sent_at DESC, id DESC LIMIT 1`,
        },
        [owner],
      );
      return rows[0] && { stanzaId: rows[0].stanza_id, sentAt: rows[0].sent_at };
    },

    async findIncoming(owner, peer, ref) {
      const byEvent = /^\d{1,18}$/.test(ref);
      const { rows } = await db.run<{ id: string; message_id: string | null; event_id: string }>(
        {
          name: 'find_incoming',
          text: `SELECT id, message_id, event_id FROM messages WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
                   AND ${byEvent ? 'event_id = $3::bigint' : 'message_id = $3'}`,
        },
        [owner, peer, ref],
      );
      const r = rows[0];
      return r && { rowId: String(r.id), messageId: r.message_id, eventId: String(r.event_id) };
    },

    async findOutgoing(owner, peer, messageId) {
      const { rows } = await db.run<{ event_id: string; sent_at: Date }>(
        {
          name: 'find_outgoing',
          text: `SELECT event_id, sent_at FROM messages WHERE owner = $1 AND peer = $2 AND direction = 'out' AND kind <> 'groupchat'
                   AND message_id = $3 AND event_id IS NOT NULL`,
        },
        [owner, peer, messageId],
      );
      const r = rows[0];
      return r && { eventId: String(r.event_id), sentAt: r.sent_at };
    },

    async unread(owner) {
      const { rows } = await db.run<{ peer: string; n: string }>(
        {
          name: 'unread',
          text: `SELECT peer, count(*) AS n FROM messages WHERE owner = $1 AND direction = 'in' AND displayed_at IS NULL AND kind <> 'groupchat'
                 GROUP BY peer ORDER BY peer`,
        },
        [owner],
      );
      return rows.map((r) => ({ jid: r.peer, count: Number(r.n) }));
    },

    async chatHistory(q) {
      const { statement, values, forward } = chatHistoryStatement(q);
      const { rows } = await db.run<ChatRow>(statement, values);
      const p = keysetPage(rows, q, forward, toChatItem, (m) => m.id);
      return {
        messages: p.items,
        page: { limit: q.limit, hasMore: p.hasMore, before: p.before, after: p.after },
      };
    },
  };
}

/**
 * The statement a chat history page runs, and whether it reads forward (oldest first, from `after`). The
 * benchmark EXPLAINs this very statement, so the plans it reports are the plans pages get.
 */
export function chatHistoryStatement(q: ChatHistoryQuery): {
  statement: Statement;
  values: unknown[];
  forward: boolean;
} {
  const args = new SqlArgs([q.owner]);
  const where = ['owner = $1', 'event_id IS NOT NULL'];
  if (q.room) where.push(`kind = 'groupchat'`, `peer = ${args.add(q.room)}`);
  else if (q.peer) where.push(`kind <> 'groupchat'`, `peer = ${args.add(q.peer)}`);
  if (q.keywords) where.push(`search @@ websearch_to_tsquery('simple', ${args.add(q.keywords)})`);
  if (q.start) where.push(`sent_at >= ${args.add(q.start)}`);
  if (q.end) where.push(`sent_at <= ${args.add(q.end)}`);
  // Without `after`, the newest page (walking back with `before`); with it, forward from the cursor.
  const page = keysetSql('event_id', q, args, { forwardWhenBoth: true });
  return {
    statement: {
      name: 'chat_history',
      types: ISO_TIMESTAMPS,
      text: `SELECT event_id, kind, direction, from_jid, to_jid, body, data, message_id, stanza_id, sent_at, peer, nick,
                    delivered_at, displayed_at, ${ATTACHMENTS_OF_EVENT}
               FROM messages WHERE ${[...where, ...page.where].join(' AND ')} ${page.orderLimit}`,
    },
    values: args.values,
    forward: page.forward,
  };
}

export function createPgRoomReader(db: TimedDb): RoomReader {
  return {
    async lastRoomStanzaId(owner, room) {
      const { rows } = await db.run<{ stanza_id: string }>(
        {
          name: 'room_last_stanza_id',
          text: `SELECT stanza_id FROM messages WHERE owner = $1 AND peer = $2 AND kind = 'groupchat' AND stanza_id IS NOT NULL
                 ORDER BY id DESC LIMIT 1`,
        },
        [owner, room],
      );
      return rows[0]?.stanza_id;
    },

    /**
     * One page of stored room history in the order Parley stored it, event ids as cursors. Without an
     * owner, each message once (the copy stored first stands for it).
     */
    async roomHistory(q) {
      const columns = `event_id, direction, nick, from_jid, body, subject, data, message_id, stanza_id, sent_at, ${ATTACHMENTS_OF_EVENT}`;
      const args = new SqlArgs([q.room]);
      const where = "peer = $1 AND kind = 'groupchat' AND event_id IS NOT NULL";
      const source =
        q.owner !== undefined
          ? `SELECT ${columns} FROM messages WHERE owner = ${args.add(q.owner)} AND ${where}`
          : `SELECT DISTINCT ON (${SAME_ROOM_MESSAGE}) ${columns} FROM messages WHERE ${where} ORDER BY ${SAME_ROOM_MESSAGE}, id`;
      const page = keysetSql('event_id', q, args);
      const { rows } = await db.run<RoomRow>(
        {
          name: 'room_history',
          types: ISO_TIMESTAMPS,
          text: `SELECT * FROM (${source}) m ${page.where.length ? `WHERE ${page.where.join(' AND ')}` : ''} ${page.orderLimit}`,
        },
        args.values,
      );
      const withDirection = q.owner !== undefined;
      const p = keysetPage(
        rows,
        q,
        page.forward,
        (r) => toRoomMessage(q.room, r, withDirection),
        (m) => m.id,
      );
      return {
        messages: p.items,
        page: { limit: q.limit, hasMore: p.hasMore, before: p.before, after: p.after },
      };
    },

    async holdsRoomFile(owner, rooms, url) {
      if (!rooms.length) return false;
      const { rows } = await db.run(
        {
          name: 'holds_room_file',
          text: `SELECT 1 FROM unnest($2::text[]) AS r(room)
                  WHERE EXISTS (
                          SELECT 1 FROM messages m JOIN events e ON e.id = m.event_id
                           WHERE m.owner = $1 AND m.peer = r.room AND m.kind = 'groupchat'
                             AND e.payload->'attachments' @> jsonb_build_array(jsonb_build_object('url', $3::text)))
                    AND NOT EXISTS (
                          SELECT 1 FROM events b
                           WHERE b.username = $1 AND b.name = 'chatapi.muc' AND b.payload->>'type' = 'left'
                             AND b.payload->>'cause' = 'banned' AND lower(b.payload->>'room') = r.room
                             AND b.id > (SELECT max(l.event_id) FROM messages l
                                          WHERE l.owner = $1 AND l.peer = r.room AND l.kind = 'groupchat'))
                  LIMIT 1`,
        },
        [owner, rooms, url],
      );
      return rows.length > 0;
    },
  };
}

function toChatItem(r: ChatRow): ChatHistoryItem {
  return {
    id: String(r.event_id),
    type: r.kind,
    direction: r.direction,
    from: r.from_jid,
    to: r.to_jid,
    body: r.body,
    data: r.data ?? null,
    stanzaId: r.message_id,
    archiveId: r.stanza_id,
    timestamp: r.sent_at,
    ...(r.kind === 'groupchat' ? { room: r.peer, ...(r.nick ? { nick: r.nick } : {}) } : {}),
    delivered: r.delivered_at !== null,
    displayed: r.displayed_at !== null,
    ...(Array.isArray(r.attachments) && r.attachments.length ? { attachments: r.attachments } : {}),
  };
}

function toRoomMessage(room: string, r: RoomRow, withDirection: boolean): RoomHistoryMessage {
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
    timestamp: r.sent_at,
    ...(withDirection ? { direction: r.direction } : {}),
    ...(Array.isArray(r.attachments) && r.attachments.length ? { attachments: r.attachments } : {}),
  };
}
