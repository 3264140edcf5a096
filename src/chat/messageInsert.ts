import type { Queryable } from '../store/db.js';
import type { StoredEvent } from '../sse/EventStore.js';
import type { EventName, Payload } from '../sse/events.js';

/** One row of the shared `messages` table (1:1 and room messages alike), as the insert takes it. */
export interface MessageValues {
  owner: string;
  kind: 'chat' | 'normal' | 'groupchat';
  direction: 'in' | 'out';
  peer: string;
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

// The event id is drawn from the events sequence first, so the message row carries it and row + event are
// written by one statement: one round trip instead of BEGIN, INSERT, INSERT, UPDATE, COMMIT, and still
// atomic (messages.event_id's foreign key is checked at the end of the statement, when both rows exist).
// A duplicate (ON CONFLICT) inserts neither and returns no row; it only burns a sequence value.
const insertSql = (onlyIfNew: string): string => `
  WITH ev AS (SELECT nextval('events_id_seq') AS id),
  msg AS (
    INSERT INTO messages (owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id, stanza_id, sent_at, event_id)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, coalesce($13::timestamptz, now()), ev.id FROM ev ${onlyIfNew}
    ON CONFLICT DO NOTHING RETURNING event_id),
  evt AS (INSERT INTO events (id, username, name, payload) SELECT event_id, $1, $14, $15::jsonb FROM msg RETURNING id, name, payload, created_at)
  SELECT id, name, payload, created_at FROM evt`;

const PLAIN = insertSql('');
// Room messages without a room stanza-id (rooms that keep no archive): the unique indexes cannot tell the
// history copy from the live one, so the same sender + message id counts as the same message.
const UNLESS_SAME_SENDER_ID =
  insertSql(`WHERE NOT EXISTS (SELECT 1 FROM messages WHERE owner = $1 AND peer = $4 AND kind = 'groupchat'
    AND nick IS NOT DISTINCT FROM $5 AND message_id = $11)`);

interface Row {
  id: string;
  name: EventName;
  payload: Payload;
  created_at: Date;
}

/** Stores a message row and its event in one (prepared) statement; undefined when it was already stored. */
export async function insertMessageWithEvent(
  db: Queryable,
  m: MessageValues,
  name: EventName,
  payload: Payload,
): Promise<StoredEvent | undefined> {
  const bySender = m.kind === 'groupchat' && !m.stanzaId && !!m.messageId;
  const { rows } = await db.query<Row>({
    name: bySender ? 'parley-message-insert-by-sender' : 'parley-message-insert',
    text: bySender ? UNLESS_SAME_SENDER_ID : PLAIN,
    values: [
      m.owner,
      m.kind,
      m.direction,
      m.peer,
      m.nick ?? null,
      m.fromJid,
      m.toJid,
      m.body ?? null,
      m.subject ?? null,
      m.data === undefined || m.data === null ? null : JSON.stringify(m.data),
      m.messageId ?? null,
      m.stanzaId ?? null,
      m.sentAt ?? null,
      name,
      payload,
    ],
  });
  const r = rows[0];
  return r && { id: String(r.id), name: r.name, payload: r.payload, createdAt: r.created_at };
}
