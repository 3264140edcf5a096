import type { TimedDb, Statement } from '../store/TimedDb.js';
import type { Queryable } from '../store/db.js';
import { withEnvelope } from '../sse/EventHub.js';
import { toEvent, type EventRow, type StoredEvent } from './EventStore.js';
import { EarlyReceipts, receiptKey } from './EarlyReceipts.js';
import type { EventSink, MessageWriter } from './MessageLog.js';
import type { EventToStore, MessageEntry, Receipt } from './types.js';
import { GroupCommit } from './GroupCommit.js';
import { batchable, insertBatch, type InsertItem } from './groupInsert.js';
import { receiptBatch, receiptBatchKey } from './groupReceipts.js';

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

/** Stores a message row and its event in one (prepared) statement; undefined when it was already stored. */
async function insertWithEvent(
  db: TimedDb,
  m: MessageEntry,
  event: EventToStore,
  via?: Queryable,
): Promise<StoredEvent | undefined> {
  const bySender = m.kind === 'groupchat' && !m.stanzaId && !!m.messageId;
  const { rows } = await db.run<EventRow>(
    bySender ? INSERT_UNLESS_SAME_SENDER_ID : INSERT,
    [
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
    ],
    via,
  );
  return rows[0] && toEvent(rows[0]);
}

/** Outgoing 1:1 messages with an id are what receipts and read markers acknowledge. */
const acknowledgeable = (m: MessageEntry): m is MessageEntry & { messageId: string } =>
  m.kind !== 'groupchat' && m.direction === 'out' && m.messageId !== undefined;

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
  group: { maxBatch?: number; maxInFlight?: number } = {},
): MessageWriter {
  let healthy = true;
  const grouped = new GroupCommit<InsertItem, StoredEvent | undefined>({
    ...group,
    writeBatch: (items) => insertBatch(db, items),
    writeOne: ({ m, event }) => insertWithEvent(db, m, event),
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
  const unwritten = new Map<string, number>();
  const track = (key: string | undefined, delta: 1 | -1) => {
    if (key === undefined) return;
    const n = (unwritten.get(key) ?? 0) + delta;
    if (n > 0) unwritten.set(key, n);
    else unwritten.delete(key);
  };
  const applyReceipt = async (r: Receipt) =>
    stored(r.owner, await sink.ordered(r.owner, () => receipts.add(r)));
  const write = (m: MessageEntry, event: EventToStore, before?: () => Promise<void>) =>
    sink.ordered(m.owner, () =>
      before
        ? db.transaction(async (tx) => {
            const written = await insertWithEvent(db, m, event, tx);
            if (written) await before();
            return written;
          })
        : batchable(m)
          ? grouped.add({ m, event })
          : insertWithEvent(db, m, event),
    );
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
      return await write(m, event).catch((err: unknown) => {
        healthy = false;
        throw err;
      });
    } finally {
      track(key, -1);
    }
  };
  return {
    async append(m, event, opts) {
      const e = opts?.transmit
        ? await transmitThenWrite(m, event, opts.transmit)
        : await write(m, event, opts?.beforeCommit);
      const result = stored(m.owner, e);
      if (result && acknowledgeable(m)) {
        // The message is visible now: receipts that came too early take effect (in arrival order).
        // Their failure must not fail a send that is stored; they simply stay unapplied, as before.
        for (const r of early.take(receiptKey(m.owner, m.peer, m.messageId)))
          await applyReceipt(r).catch(() => undefined);
      }
      return result;
    },
    async receipt(r) {
      const key = receiptKey(r.owner, r.peer, r.messageId);
      const release = early.hold(key, r);
      // Its message went out and is on its way to the database: no statement could match yet.
      if (unwritten.has(key)) return undefined;
      const e = await applyReceipt(r);
      if (e) release();
      return e;
    },
    async markRead(owner, peer, uptoRowId) {
      const res = await db.run(MARK_READ, [owner, peer, uptoRowId]);
      return res.rowCount ?? 0;
    },
  };
}
