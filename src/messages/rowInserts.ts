import type { TimedDb, Statement } from '../store/TimedDb.js';
import type { Queryable } from '../store/db.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import type { InsertItem } from './groupInsert.js';
import type { EventToStore, MessageEntry, Receipt } from './types.js';

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

const INSERT: Statement = { name: 'message_insert', prepared: true, text: insertSql('') };
// Room messages without a room stanza-id (rooms that keep no archive): the unique indexes cannot tell the
// history copy from the live one, so the same sender + message id counts as the same message.
const INSERT_UNLESS_SAME_SENDER_ID: Statement = {
  name: 'message_insert_by_sender',
  prepared: true,
  text: insertSql(`WHERE NOT EXISTS (SELECT 1 FROM messages WHERE owner = $1 AND peer = $4 AND kind = 'groupchat'
    AND nick IS NOT DISTINCT FROM $5 AND message_id = $11)`),
};

// A recipient's copy and the delivery receipt its arrival answers (the sender's session is on this
// instance): the single-row insert and the single-row receipt in one statement, both or neither. Used
// when the copy is written alone; a copy that shares a multi-row insert has its receipt follow through
// the receipts' own group commit (an array statement holding both kinds cost PostgreSQL more than the
// two it replaced: bench/JOURNAL.md, "Fewer statements that cost more").
const INSERT_ANSWERED: Statement = {
  name: 'message_insert_answered',
  prepared: true,
  text: `
  WITH ev AS (SELECT nextval('events_id_seq') AS id),
  msg AS (
    INSERT INTO messages (owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id, stanza_id, sent_at, event_id)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, coalesce($13::timestamptz, now()), ev.id FROM ev
    ON CONFLICT DO NOTHING RETURNING event_id),
  evt AS (INSERT INTO events (id, username, name, payload) SELECT event_id, $1, $14, $15::jsonb FROM msg RETURNING id, name, payload, created_at),
  o AS (UPDATE messages SET delivered_at = now()
         WHERE owner = $16 AND peer = $17 AND direction = 'out' AND message_id = $18 AND kind <> 'groupchat'
           AND delivered_at IS NULL
         RETURNING event_id),
  revt AS (INSERT INTO events (username, name, payload)
           SELECT $16, $20, jsonb_build_object('type', 'receipt', 'status', 'delivered', 'from', $19::text,
                                               'messageId', o.event_id::text, 'stanzaId', $18::text)
           FROM o RETURNING id, name, payload, created_at)
  SELECT 'i' AS part, id, name, payload, created_at FROM evt
  UNION ALL
  SELECT 'r', id, name, payload, created_at FROM revt`,
};

/** Stores a message row and its event in one (prepared) statement; undefined when it was already stored. */
export async function insertWithEvent(
  db: TimedDb,
  m: MessageEntry,
  event: EventToStore,
  via?: Queryable,
): Promise<StoredEvent | undefined> {
  const bySender = m.kind === 'groupchat' && !m.stanzaId && !!m.messageId;
  const { rows } = await db.run<EventRow>(
    bySender ? INSERT_UNLESS_SAME_SENDER_ID : INSERT,
    rowParams(m, event),
    via,
  );
  return rows[0] && toEvent(rows[0]);
}

/** $1 … $15 of the single-row insert. */
const rowParams = (m: MessageEntry, event: EventToStore): unknown[] => [
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
  event.name,
  event.payload,
];

/** What a row's write stored, and whether the receipt its arrival answers was written with it. */
export interface Written {
  row?: StoredEvent;
  receipt?: StoredEvent;
  answered: boolean;
}
export type RowWrite = InsertItem & { answers?: Receipt };

export async function insertAnswered(
  db: TimedDb,
  m: MessageEntry,
  event: EventToStore,
  r: Receipt,
): Promise<Written> {
  const { rows } = await db.run<EventRow & { part: 'i' | 'r' }>(INSERT_ANSWERED, [
    ...rowParams(m, event),
    r.owner,
    r.peer,
    r.messageId,
    r.from,
    r.name,
  ]);
  const find = (part: 'i' | 'r') => {
    const row = rows.find((x) => x.part === part);
    return row && toEvent(row);
  };
  return { row: find('i'), receipt: find('r'), answered: true };
}
