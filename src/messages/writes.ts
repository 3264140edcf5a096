import type { TimedDb, Statement } from '../store/TimedDb.js';
import { withEnvelope } from '../sse/EventHub.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import { EarlyReceipts, receiptKey } from './EarlyReceipts.js';
import type { EventSink, MessageWriter } from './MessageLog.js';
import type { EventToStore, MessageEntry, Receipt } from './types.js';
import { GroupCommit } from './GroupCommit.js';
import { batchable, insertBatch } from './groupInsert.js';
import { insertAnswered, insertWithEvent, type RowWrite, type Written } from './rowInserts.js';
import { receiptBatch, receiptBatchKey } from './groupReceipts.js';

// Marks the message and stores the receipt event in one statement.
const receiptSql = (status: Receipt['status']): Statement => ({
  name: `receipt_${status}`,
  prepared: true,
  text: `WITH o AS (UPDATE messages SET ${status === 'delivered' ? 'delivered_at = now()' : 'displayed_at = now(), delivered_at = coalesce(delivered_at, now())'}
                    WHERE owner = $1 AND peer = $2 AND direction = 'out' AND message_id = $3 AND kind <> 'groupchat'
                      AND ${status === 'delivered' ? 'delivered_at' : 'displayed_at'} IS NULL
                    RETURNING event_id)
         INSERT INTO events (username, name, payload)
         SELECT $1, $6, jsonb_build_object('type', 'receipt', 'status', $4::text, 'from', $5::text, 'messageId', o.event_id::text, 'stanzaId', $3::text)
         FROM o RETURNING id, name, payload, created_at`,
});
const RECEIPT = { delivered: receiptSql('delivered'), displayed: receiptSql('displayed') };

const MARK_READ: Statement = {
  name: 'mark_read',
  text: `UPDATE messages SET displayed_at = now() WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
           AND displayed_at IS NULL AND id <= $3`,
};

/** Outgoing 1:1 messages with an id are what receipts and read markers acknowledge. */
const acknowledgeable = (m: MessageEntry): m is MessageEntry & { messageId: string } =>
  m.kind !== 'groupchat' && m.direction === 'out' && m.messageId !== undefined;

/**
 * A row in the group commit's queue. A send's (`sendKey`, its receipt key) may take a delivery receipt while
 * it waits (`delivered`, see fold); `onReceipt` then gets that receipt's stored event once the row is written.
 */
type QueuedRow = RowWrite & { sendKey?: string; onReceipt?: (e: StoredEvent | undefined) => void };

/** the group commits' knobs (GroupCommitOptions) */
export type GroupOptions = { maxBatch?: number; maxInFlight?: number; gatherMs?: number };

/**
 * The write side on Postgres. A message without a beforeCommit (the copies a user receives, and sends
 * through `transmit`) and every receipt join a group commit: those that arrive together share one
 * multi-row statement (GroupCommit.ts). A send goes out first (`transmit`) and is written after, with the
 * others of its turn; while the database looks unwell (a write of the group commit failed and none
 * succeeded since) a send takes the strict path instead — BEGIN + insert, the stanza, COMMIT — so a
 * database that is down refuses messages before they reach anyone. Receipts that arrive before their
 * message is committed are held (EarlyReceipts) and applied when it is; those for a send still on its way
 * to the database are held without a statement at all.
 */
export function createPgWriter(
  db: TimedDb,
  sink: EventSink,
  early: EarlyReceipts<Receipt> = new EarlyReceipts(),
  group: GroupOptions = {},
): MessageWriter {
  let healthy = true;
  /** sends whose row waits in the group commit's queue, by receipt key: a delivery receipt may join them */
  const queued = new Map<string, QueuedRow>();
  const taken = (items: readonly QueuedRow[]) => {
    for (const it of items)
      if (it.sendKey !== undefined && queued.get(it.sendKey) === it) queued.delete(it.sendKey);
  };
  const grouped = new GroupCommit<QueuedRow, Written>({
    ...group,
    // A session's copies may be added without waiting for each (StanzaRouter's deferred work): ids must
    // still follow the order they were added in, which two batches in flight at once would not keep.
    orderKey: ({ m }) => m.owner,
    writeBatch: async (items) => {
      taken(items);
      const out = await insertBatch(db, items);
      items.forEach((it, i) => it.onReceipt?.(out[i]!.receipt));
      return out.map(({ row }) => ({ row, answered: false }));
    },
    writeOne: async (item) => {
      taken([item]);
      const { m, event, answers } = item;
      if (item.delivered) {
        try {
          const [out] = await insertBatch(db, [item]);
          item.onReceipt?.(out!.receipt);
          return { row: out!.row, answered: false };
        } catch (err) {
          item.onReceipt?.(undefined);
          throw err;
        }
      }
      if (!answers) return { row: await insertWithEvent(db, m, event), answered: false };
      // The receipt's event joins its owner's order only now, as its statement runs: in a batch of rows
      // it would not be written, and holding the sender's order meanwhile would delay their other events.
      let both: Promise<Written> | undefined;
      const run = () => (both ??= insertAnswered(db, m, event, answers));
      await sink.ordered(answers.owner, async () => (await run()).receipt);
      return run();
    },
  });
  const stored = (owner: string, e: StoredEvent | undefined) => {
    if (!e) return undefined;
    const event = withEnvelope(e);
    sink.deliver(owner, event);
    return event;
  };
  const receipts = new GroupCommit<Receipt, StoredEvent | undefined>({
    ...group,
    key: receiptBatchKey,
    writeBatch: (rs) => receiptBatch(db, rs),
    writeOne: async (r) => {
      const { rows } = await db.run<EventRow>(RECEIPT[r.status], [
        r.owner,
        r.peer,
        r.messageId,
        r.status,
        r.from,
        r.name,
      ]);
      return rows[0] && toEvent(rows[0]);
    },
  });
  /** sends transmitted (or being transmitted) whose row is not written yet, by receipt key */
  const unwritten = new Map<string, { n: number; written: Promise<void>; settle: () => void }>();
  const track = (key: string | undefined, delta: 1 | -1) => {
    if (key === undefined) return;
    let u = unwritten.get(key);
    if (!u) {
      let settle = () => {};
      const written = new Promise<void>((r) => (settle = r));
      unwritten.set(key, (u = { n: 0, written, settle }));
    }
    u.n += delta;
    if (u.n > 0) return;
    unwritten.delete(key);
    u.settle();
  };

  const applyReceipt = async (r: Receipt) =>
    stored(r.owner, await sink.ordered(r.owner, () => receipts.add(r)));
  const write = (m: MessageEntry, event: EventToStore, before?: () => Promise<void>, sendKey?: string) =>
    sink.ordered(m.owner, () => {
      if (before)
        return db.transaction(async (tx) => {
          const written = await insertWithEvent(db, m, event, tx);
          if (written) await before();
          return written;
        });
      if (!batchable(m)) return insertWithEvent(db, m, event);
      const item: QueuedRow = { m, event, sendKey };
      if (sendKey !== undefined) queued.set(sendKey, item);
      return grouped.add(item).then((w) => w.row);
    });
  /** The send path: the stanza first, then the row with the others of its turn (see above). */
  const transmitThenWrite = async (m: MessageEntry, event: EventToStore, transmit: () => Promise<void>) => {
    if (!healthy) {
      const e = await write(m, event, transmit);
      healthy = true;
      return e;
    }
    const key = acknowledgeable(m) ? receiptKey(m.owner, m.peer, m.messageId) : undefined;
    track(key, 1);
    try {
      await transmit();
      return await write(m, event, undefined, key).catch((err: unknown) => {
        healthy = false;
        throw err;
      });
    } finally {
      track(key, -1);
    }
  };
  const receipt = async (r: Receipt) => {
    const key = receiptKey(r.owner, r.peer, r.messageId);
    const release = early.hold(key, r);
    // Its message went out and is on its way to the database: no statement could match yet.
    if (unwritten.has(key)) return undefined;
    const e = await applyReceipt(r);
    if (e) release();
    return e;
  };
  /**
   * A copy and the delivery receipt its arrival answers. Written alone, both go in one statement (the
   * group commit's writeOne), each event delivered to its owner; in a batch of rows the receipt is handed
   * back to follow once the copy's event is out, as receipt() would write it.
   */
  const writeAnswered = async (m: MessageEntry, event: EventToStore, r: Receipt, inOrder: boolean) => {
    const key = receiptKey(r.owner, r.peer, r.messageId);
    const waiting = queued.get(key);
    // Not while every batch allowed is out: past the knee, folding let sends be answered sooner than the
    // receiving side drained them, which no bound of the backpressure sees, and the accepted messages' p99
    // grew (bench/JOURNAL.md, "A receipt folded into its send").
    if (waiting && !waiting.delivered && !grouped.saturated) return fold(waiting, m, event, r);
    const sending = unwritten.get(key);
    // The copy overtook its sender's row through the server (the stanza goes out first). Under load (every
    // batch allowed is out) it goes on at once and its receipt follows, held until that row is stored: a
    // wait behind the queue would cost more than a statement. Otherwise it waits for the row, a fraction of
    // a statement.
    // A copy added in order (inOrder) cannot wait either: the next stanza's copy would be added first.
    if (sending && (grouped.saturated || inOrder)) return { row: await write(m, event), follow: r };
    if (sending) await sending.written;
    // Once the row is written nothing needs holding (a hold would be taken by the send's own early-receipt
    // check and written twice); otherwise the receipt is held in case the row commits meanwhile.
    const release = sending ? () => undefined : early.hold(key, r);
    let written: Written | undefined;
    try {
      const row = await sink.ordered(
        m.owner,
        async () => (written = await grouped.add({ m, event, answers: r })).row,
      );
      if (!written!.answered) {
        release();
        return { row, follow: r };
      }
      if (written!.receipt) release();
      return { row, answered: written!.receipt };
    } catch (err) {
      release();
      throw err;
    }
  };
  /**
   * The copy came while its sender's row still waits in the group commit's queue (the stanza goes out before
   * the row is written, and while busy the queue gathers): the row is written delivered and its receipt event
   * stored by the same statement, and the copy is written on its own, waiting for nothing. One statement less
   * than a receipt of its own, and none of the copy's wait for the sender's row. Should the sender's row turn
   * out a duplicate, the receipt follows as receipt() would write it.
   */
  const fold = async (
    send: QueuedRow,
    m: MessageEntry,
    event: EventToStore,
    r: Receipt,
  ): Promise<{ row: StoredEvent | undefined; follow?: Receipt; answered?: StoredEvent }> => {
    let settle: (e: StoredEvent | undefined) => void = () => undefined;
    const receiptStored = new Promise<StoredEvent | undefined>((resolve) => (settle = resolve));
    send.delivered = { name: r.name, from: r.from };
    send.onReceipt = settle;
    // The receipt's event joins its owner's order now, after the sender's row (whose write began first).
    const [row, answered] = await Promise.all([write(m, event), sink.ordered(r.owner, () => receiptStored)]);
    return answered ? { row, answered } : { row, follow: r };
  };
  return {
    async append(m, event, opts) {
      const answers = opts?.answers;
      let e: StoredEvent | undefined;
      let follow: Receipt | undefined;
      let answered: StoredEvent | undefined;
      if (opts?.transmit) {
        e = await transmitThenWrite(m, event, opts.transmit);
        follow = answers;
      } else if (answers && !opts.beforeCommit && answers.status === 'delivered' && batchable(m))
        ({ row: e, follow, answered } = await writeAnswered(m, event, answers, opts.inOrder === true));
      else {
        e = await write(m, event, opts?.beforeCommit);
        follow = answers;
      }
      const result = stored(m.owner, e);
      if (answers) stored(answers.owner, answered);
      if (follow) await receipt(follow);
      if (result && acknowledgeable(m)) {
        // The message is visible now: receipts that came too early take effect (in arrival order).
        // Their failure must not fail a send that is stored; they simply stay unapplied, as before.
        for (const r of early.take(receiptKey(m.owner, m.peer, m.messageId)))
          await applyReceipt(r).catch(() => undefined);
      }
      return result;
    },
    receipt,
    async markRead(owner, peer, uptoRowId) {
      const res = await db.run(MARK_READ, [owner, peer, uptoRowId]);
      return res.rowCount ?? 0;
    },
  };
}
