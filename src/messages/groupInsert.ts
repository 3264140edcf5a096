import type { TimedDb, Statement } from '../store/TimedDb.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import type { EventToStore, MessageEntry, Receipt } from './types.js';

// The single-row insert (writes.ts) for many rows: the inputs travel as one array per column, event ids
// are drawn in input order (ord), messages + events are still written by one statement, and each event
// comes back with the ord of its input (and `part` 'm') so every caller gets its own. A duplicate (ON
// CONFLICT, also against an earlier row of the same batch) inserts neither row and returns nothing for its ord.
const UNNEST = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::text[],
                $15::text[]`;
const COLUMNS = `owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id,
                 stanza_id, sent_at, name, payload`;
const ROW_COLUMNS = `owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id, stanza_id,
                     sent_at, event_id`;
const ROW_VALUES = `owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data::jsonb, message_id,
                    stanza_id, coalesce(sent_at, now()), id`;
const EVENTS = `evt AS (
    INSERT INTO events (id, username, name, payload)
    SELECT ev.id, ev.owner, ev.name, ev.payload::jsonb FROM msg JOIN ev ON ev.id = msg.event_id
    RETURNING id, name, payload, created_at)`;
const ROW_EVENTS = `SELECT ev.ord, 'm' AS part, evt.id, evt.name, evt.payload, evt.created_at FROM evt JOIN ev ON ev.id = evt.id`;

const INSERT_BATCH: Statement = {
  name: 'message_insert_batch',
  prepared: true,
  text: `
  WITH ev AS MATERIALIZED (
    SELECT u.*, nextval('events_id_seq') AS id
    FROM ${UNNEST}) WITH ORDINALITY AS u(${COLUMNS}, ord)
    ORDER BY u.ord),
  msg AS (
    INSERT INTO messages (${ROW_COLUMNS}) SELECT ${ROW_VALUES} FROM ev ORDER BY ord
    ON CONFLICT DO NOTHING RETURNING event_id),
  ${EVENTS}
  ${ROW_EVENTS}`,
};

// The same with delivery receipts folded in ($16 the receipt event's name, $17 who sent the receipt; null for
// a row without one): such a row is inserted delivered, and its receipt event (the payload receipt_batch
// builds; `part` 'r') is stored by the same statement, its id drawn after the row's. A duplicate row stores
// neither. A batch without receipts keeps the statement above.
const INSERT_BATCH_DELIVERED: Statement = {
  name: 'message_insert_batch_delivered',
  prepared: true,
  text: `
  WITH ev AS MATERIALIZED (
    SELECT u.*, nextval('events_id_seq') AS id
    FROM ${UNNEST}, $16::text[], $17::text[]) WITH ORDINALITY AS u(${COLUMNS}, rname, rfrom, ord)
    ORDER BY u.ord),
  msg AS (
    INSERT INTO messages (${ROW_COLUMNS}, delivered_at)
    SELECT ${ROW_VALUES}, CASE WHEN rname IS NOT NULL THEN now() END FROM ev ORDER BY ord
    ON CONFLICT DO NOTHING RETURNING event_id),
  ${EVENTS},
  rc AS MATERIALIZED (
    SELECT ev.ord, ev.owner, ev.rname, ev.rfrom, ev.message_id, ev.id AS message_event, nextval('events_id_seq') AS id
    FROM msg JOIN ev ON ev.id = msg.event_id WHERE ev.rname IS NOT NULL ORDER BY ev.ord),
  revt AS (
    INSERT INTO events (id, username, name, payload)
    SELECT id, owner, rname, jsonb_build_object('type', 'receipt', 'status', 'delivered', 'from', rfrom,
                                                'messageId', message_event::text, 'stanzaId', message_id)
    FROM rc ORDER BY ord
    RETURNING id, name, payload, created_at)
  ${ROW_EVENTS}
  UNION ALL
  SELECT rc.ord, 'r', revt.id, revt.name, revt.payload, revt.created_at FROM revt JOIN rc ON rc.id = revt.id`,
};

export interface InsertItem {
  m: MessageEntry;
  event: EventToStore;
  /** an outgoing row written delivered: the receipt (its event's name, its sender) stored with it */
  delivered?: Pick<Receipt, 'name' | 'from'>;
}

/** What one item's insert stored: its event (none for a duplicate) and its folded receipt's. */
export interface Inserted {
  row?: StoredEvent;
  receipt?: StoredEvent;
}

/** Can this row share a batch? Room messages deduplicated by sender + id (no unique index) cannot. */
export const batchable = (m: MessageEntry): boolean =>
  !(m.kind === 'groupchat' && !m.stanzaId && !!m.messageId);

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Writes every item in one statement; per item its stored events (none for a duplicate). */
export async function insertBatch(db: TimedDb, items: readonly InsertItem[]): Promise<Inserted[]> {
  const col = <T>(f: (m: MessageEntry, e: EventToStore) => T) => items.map(({ m, event }) => f(m, event));
  const params: unknown[] = [
    col((m) => m.owner),
    col((m) => m.kind),
    col((m) => m.direction),
    col((m) => m.peer),
    col((m) => m.nick ?? null),
    col((m) => m.fromJid),
    col((m) => m.toJid),
    col((m) => m.body ?? null),
    col((m) => m.subject ?? null),
    col((m) => json(m.data)),
    col((m) => m.messageId ?? null),
    col((m) => m.stanzaId ?? null),
    col((m) => m.sentAt ?? null),
    col((_, e) => e.name),
    col((_, e) => json(e.payload)),
  ];
  const folded = items.some((i) => i.delivered);
  if (folded)
    params.push(
      items.map((i) => i.delivered?.name ?? null),
      items.map((i) => i.delivered?.from ?? null),
    );
  const { rows } = await db.run<EventRow & { ord: string; part: 'm' | 'r' }>(
    folded ? INSERT_BATCH_DELIVERED : INSERT_BATCH,
    params,
  );
  const out: Inserted[] = items.map(() => ({}));
  for (const r of rows) out[Number(r.ord) - 1]![r.part === 'm' ? 'row' : 'receipt'] = toEvent(r);
  return out;
}
