import type { TimedDb, Statement } from '../store/TimedDb.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import { INSERT_RESULTS, insertBatch, insertCtes, insertParams, type InsertItem } from './groupInsert.js';
import {
  RECEIPT_RESULTS,
  receiptBatch,
  receiptBatchKey,
  receiptCtes,
  receiptParams,
} from './groupReceipts.js';
import type { Receipt } from './types.js';

/**
 * One write of the log's group commit: a message row with its event, a receipt, or both — a row and the
 * receipt its arrival answers, written by one statement (both or neither).
 */
export type Write = { insert: InsertItem; receipt?: Receipt } | { insert?: undefined; receipt: Receipt };

/** What a write stored: the row's event, the receipt's event (each absent when it changed nothing). */
export interface Written {
  row?: StoredEvent;
  receipt?: StoredEvent;
}

// Rows and receipts of the same moment in one statement: a delivered 1:1 message is three writes (the
// send's row, the recipient's copy, the receipt the copy sends back), and each comes a little after the
// one before, so under load each statement carries pieces of several messages. A receipt reaches the
// group commit only once its message is committed (writes.ts holds the others), so its UPDATE sees the
// row although the statement's own inserts are invisible to it.
const WRITE_BATCH: Statement = {
  name: 'message_write_batch',
  prepared: true,
  text: `WITH ${insertCtes(1)},${receiptCtes(16)}
  SELECT 'i' AS part, ins.* FROM (${INSERT_RESULTS}) ins
  UNION ALL
  SELECT 'r', rec.* FROM (${RECEIPT_RESULTS}) rec`,
};

/** Receipts for one message never share a statement (nor do they overlap); rows need no key. */
export const writeKey = (w: Write): string | undefined => w.receipt && receiptBatchKey(w.receipt);

/** Writes every item in one statement (the insert-only or receipt-only one when that is all there is). */
export async function writeBatch(db: TimedDb, writes: readonly Write[]): Promise<Written[]> {
  const inserts: InsertItem[] = [];
  const receipts: Receipt[] = [];
  // per write: its place among the inserts and among the receipts (-1: none)
  const places = writes.map((w) => ({
    i: w.insert ? inserts.push(w.insert) - 1 : -1,
    r: w.receipt ? receipts.push(w.receipt) - 1 : -1,
  }));
  let ins: (StoredEvent | undefined)[] = [];
  let rec: (StoredEvent | undefined)[] = [];
  if (!receipts.length) ins = await insertBatch(db, inserts);
  else if (!inserts.length) rec = await receiptBatch(db, receipts);
  else {
    const { rows } = await db.run<EventRow & { ord: string; part: 'i' | 'r' }>(WRITE_BATCH, [
      ...insertParams(inserts),
      ...receiptParams(receipts),
    ]);
    ins = new Array<StoredEvent | undefined>(inserts.length).fill(undefined);
    rec = new Array<StoredEvent | undefined>(receipts.length).fill(undefined);
    for (const r of rows) (r.part === 'i' ? ins : rec)[Number(r.ord) - 1] = toEvent(r);
  }
  return places.map(({ i, r }) => ({ row: i < 0 ? undefined : ins[i], receipt: r < 0 ? undefined : rec[r] }));
}
