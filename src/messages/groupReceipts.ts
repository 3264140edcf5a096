import type { TimedDb, Statement } from '../store/TimedDb.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import type { Receipt } from './types.js';

// The single-row receipt statements (writes.ts) for many receipts: each marks its message (only when it
// does not have that status yet) and stores its receipt event, event ids drawn in arrival order, each event
// returned with the ord of its receipt. The group commit never puts two receipts for one message in a
// batch (an UPDATE changes a row once per statement), see receiptBatchKey.
const RECEIPT_BATCH: Statement = {
  name: 'receipt_batch',
  prepared: true,
  text: `
  WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
      WITH ORDINALITY AS r(owner, peer, message_id, status, from_jid, name, ord)),
  o AS (
    UPDATE messages m
       SET delivered_at = coalesce(m.delivered_at, now()),
           displayed_at = CASE WHEN r.status = 'displayed' THEN now() ELSE m.displayed_at END
      FROM r
     WHERE m.owner = r.owner AND m.peer = r.peer AND m.direction = 'out' AND m.message_id = r.message_id
       AND m.kind <> 'groupchat'
       AND CASE WHEN r.status = 'displayed' THEN m.displayed_at IS NULL ELSE m.delivered_at IS NULL END
    RETURNING m.event_id, r.*),
  ev AS MATERIALIZED (SELECT o.*, nextval('events_id_seq') AS id FROM o ORDER BY o.ord),
  evt AS (
    INSERT INTO events (id, username, name, payload)
    SELECT id, owner, name, jsonb_build_object('type', 'receipt', 'status', status, 'from', from_jid,
                                               'messageId', event_id::text, 'stanzaId', message_id)
    FROM ev ORDER BY ord
    RETURNING id, name, payload, created_at)
  SELECT ev.ord, evt.id, evt.name, evt.payload, evt.created_at FROM evt JOIN ev ON ev.id = evt.id`,
};

/** Receipts for one message must not share a statement. */
export const receiptBatchKey = (r: Receipt): string => `${r.owner}\u0000${r.peer}\u0000${r.messageId}`;

/** Applies every receipt in one statement; per receipt its stored event, or undefined when it changed nothing. */
export async function receiptBatch(
  db: TimedDb,
  receipts: readonly Receipt[],
): Promise<(StoredEvent | undefined)[]> {
  const col = (f: (r: Receipt) => string) => receipts.map(f);
  const { rows } = await db.run<EventRow & { ord: string }>(RECEIPT_BATCH, [
    col((r) => r.owner),
    col((r) => r.peer),
    col((r) => r.messageId),
    col((r) => r.status),
    col((r) => r.from),
    col((r) => r.name),
  ]);
  const out: (StoredEvent | undefined)[] = receipts.map(() => undefined);
  for (const r of rows) out[Number(r.ord) - 1] = toEvent(r);
  return out;
}
