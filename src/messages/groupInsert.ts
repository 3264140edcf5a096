import type { TimedDb, Statement } from '../store/TimedDb.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import type { EventToStore, MessageEntry } from './types.js';

// The single-row insert (writes.ts) for many rows: the inputs travel as one array per column, event ids
// are drawn in input order (ord), messages + events are still written by one statement, and each event
// comes back with the ord of its input so every caller gets its own. A duplicate (ON CONFLICT, also
// against an earlier row of the same batch) inserts neither row and returns nothing for its ord.
const INSERT_BATCH: Statement = {
  name: 'message_insert_batch',
  prepared: true,
  text: `
  WITH ev AS MATERIALIZED (
    SELECT u.*, nextval('events_id_seq') AS id
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::text[], $15::text[])
      WITH ORDINALITY AS u(owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id,
                           stanza_id, sent_at, name, payload, ord)
    ORDER BY u.ord),
  msg AS (
    INSERT INTO messages (owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id, stanza_id, sent_at, event_id)
    SELECT owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data::jsonb, message_id, stanza_id, coalesce(sent_at, now()), id
    FROM ev ORDER BY ord
    ON CONFLICT DO NOTHING RETURNING event_id),
  evt AS (
    INSERT INTO events (id, username, name, payload)
    SELECT ev.id, ev.owner, ev.name, ev.payload::jsonb FROM msg JOIN ev ON ev.id = msg.event_id
    RETURNING id, name, payload, created_at)
  SELECT ev.ord, evt.id, evt.name, evt.payload, evt.created_at FROM evt JOIN ev ON ev.id = evt.id`,
};

export interface InsertItem {
  m: MessageEntry;
  event: EventToStore;
}

/** Can this row share a batch? Room messages deduplicated by sender + id (no unique index) cannot. */
export const batchable = (m: MessageEntry): boolean =>
  !(m.kind === 'groupchat' && !m.stanzaId && !!m.messageId);

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Writes every item in one statement; per item its stored event, or undefined for a duplicate. */
export async function insertBatch(
  db: TimedDb,
  items: readonly InsertItem[],
): Promise<(StoredEvent | undefined)[]> {
  const col = <T>(f: (m: MessageEntry, e: EventToStore) => T) => items.map(({ m, event }) => f(m, event));
  const { rows } = await db.run<EventRow & { ord: string }>(INSERT_BATCH, [
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
  ]);
  const out: (StoredEvent | undefined)[] = items.map(() => undefined);
  for (const r of rows) out[Number(r.ord) - 1] = toEvent(r);
  return out;
}
