import type { TimedDb, Statement } from '../store/TimedDb.js';
import type { EventRow, StoredEvent } from './EventStore.js';
import { byOrd } from './groupInsert.js';
import type { Receipt } from './types.js';

// The single-row receipt statements (writes.ts) for many receipts: each marks its message (only when it
// does not have that status yet) and stores its receipt event, event ids drawn in arrival order, each event
// returned with the ord of its receipt. The group commit never puts two receipts for one message in a
// batch (an UPDATE changes a row once per statement), see receiptBatchKey.

/** The CTEs of the multi-row receipt (r, o, rev, revt), parameters $`first` … $first+5. */
export const receiptCtes = (first: number): string => {
  const p = (i: number) => `$${first + i}`;
  return `
  r AS (
    SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[],
                         ${p(5)}::text[])
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
  rev AS MATERIALIZED (SELECT o.*, nextval('events_id_seq') AS id FROM o ORDER BY o.ord),
  revt AS (
    INSERT INTO events (id, username, name, payload)
    SELECT id, owner, name, jsonb_build_object('type', 'receipt', 'status', status, 'from', from_jid,
                                               'messageId', event_id::text, 'stanzaId', message_id)
    FROM rev ORDER BY ord
    RETURNING id, name, payload, created_at)`;
};
/** The rows the receipt CTEs return: each stored receipt event with the ord of its receipt. */
export const RECEIPT_RESULTS =
  'SELECT rev.ord, revt.id, revt.name, revt.payload, revt.created_at FROM revt JOIN rev ON rev.id = revt.id';

const RECEIPT_BATCH: Statement = {
  name: 'receipt_batch',
  prepared: true,
  text: `WITH ${receiptCtes(1)}\n  ${RECEIPT_RESULTS}`,
};

/** Receipts for one message must not share a statement. */
export const receiptBatchKey = (r: Receipt): string => `${r.owner}\u0000${r.peer}\u0000${r.messageId}`;

/** The receipt CTEs' parameters for `receipts`: one array per column. */
export function receiptParams(receipts: readonly Receipt[]): unknown[] {
  const col = (f: (r: Receipt) => string) => receipts.map(f);
  return [
    col((r) => r.owner),
    col((r) => r.peer),
    col((r) => r.messageId),
    col((r) => r.status),
    col((r) => r.from),
    col((r) => r.name),
  ];
}

/** Applies every receipt in one statement; per receipt its stored event, or undefined when it changed nothing. */
export async function receiptBatch(
  db: TimedDb,
  receipts: readonly Receipt[],
): Promise<(StoredEvent | undefined)[]> {
  const { rows } = await db.run<EventRow & { ord: string }>(RECEIPT_BATCH, receiptParams(receipts));
  return byOrd(receipts.length, rows);
}
