import type { TimedDb, Statement } from '../store/TimedDb.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import type { EventToStore, MessageEntry } from './types.js';

// The single-row insert (writes.ts) for many rows: the inputs travel as one array per column, event ids
// are drawn in input order (ord), messages + events are still written by one statement, and each event
// comes back with the ord of its input so every caller gets its own. A duplicate (ON CONFLICT, also
// against an earlier row of the same batch) inserts neither row and returns nothing for its ord.
/** The CTEs of the multi-row insert (ev, msg, evt), parameters from $`first` ($first … $first+14). */
export const insertCtes = (first: number): string => {
  const p = (i: number) => `$${first + i}`;
  return `
  ev AS MATERIALIZED (
    SELECT u.*, nextval('events_id_seq') AS id
    FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[],
                ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::text[], ${p(8)}::text[], ${p(9)}::text[],
                ${p(10)}::text[], ${p(11)}::text[], ${p(12)}::timestamptz[], ${p(13)}::text[], ${p(14)}::text[])
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
    RETURNING id, name, payload, created_at)`;
};
/** The rows the insert CTEs return: each stored event with the ord of its input. */
export const INSERT_RESULTS =
  'SELECT ev.ord, evt.id, evt.name, evt.payload, evt.created_at FROM evt JOIN ev ON ev.id = evt.id';

const INSERT_BATCH: Statement = {
  name: 'message_insert_batch',
  prepared: true,
  text: `WITH ${insertCtes(1)}\n  ${INSERT_RESULTS}`,
};

export interface InsertItem {
  m: MessageEntry;
  event: EventToStore;
}

/** Can this row share a batch? Room messages deduplicated by sender + id (no unique index) cannot. */
export const batchable = (m: MessageEntry): boolean =>
  !(m.kind === 'groupchat' && !m.stanzaId && !!m.messageId);

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** The insert CTEs' parameters for `items`: one array per column. */
export function insertParams(items: readonly InsertItem[]): unknown[] {
  const col = <T>(f: (m: MessageEntry, e: EventToStore) => T) => items.map(({ m, event }) => f(m, event));
  return [
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
}

/** Writes every item in one statement; per item its stored event, or undefined for a duplicate. */
export async function insertBatch(
  db: TimedDb,
  items: readonly InsertItem[],
): Promise<(StoredEvent | undefined)[]> {
  const { rows } = await db.run<EventRow & { ord: string }>(INSERT_BATCH, insertParams(items));
  return byOrd(items.length, rows);
}

/** Results by input position (ord is 1-based); undefined where a row returned nothing. */
export function byOrd(n: number, rows: readonly (EventRow & { ord: string })[]): (StoredEvent | undefined)[] {
  const out: (StoredEvent | undefined)[] = new Array<StoredEvent | undefined>(n).fill(undefined);
  for (const r of rows) out[Number(r.ord) - 1] = toEvent(r);
  return out;
}
