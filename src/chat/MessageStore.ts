import type pg from 'pg';
import { withTransaction } from '../store/db.js';
import type { EventHub } from '../sse/EventHub.js';
import { withEnvelope } from '../sse/EventHub.js';
import type { StoredEvent } from '../sse/EventStore.js';
import type { DeliveredEvent, EventName, Payload } from '../sse/events.js';
import { insertMessageWithEvent, type MessageValues } from './messageInsert.js';

/** A 1:1 or room message as Parley keeps it (one row per owner, i.e. per Parley user who has it). */
export type MessageRow = MessageValues;

/**
 * Message rows and their SSE event, written by one statement so history and replay always agree.
 * A message already stored (same archive id or same sender id) is skipped: live delivery, carbons
 * and MAM catch-up of one message end up as one row and one event.
 */
export class MessageStore {
  constructor(private readonly deps: { db: pg.Pool; hub: EventHub }) {}

  /** Stores row + event; undefined when it was a duplicate. The caller delivers the event right after. */
  async insert(
    m: MessageRow,
    event: { name: EventName; payload: Payload },
    /** runs after the rows are written and before COMMIT: throwing undoes the insert */
    beforeCommit?: () => Promise<void>,
  ): Promise<DeliveredEvent | undefined> {
    const stored = await this.deps.hub.ordered(m.owner, () =>
      beforeCommit
        ? withTransaction(this.deps.db, async (tx) => {
            const e = await insertMessageWithEvent(tx, m, event.name, event.payload);
            if (e) await beforeCommit();
            return e;
          })
        : insertMessageWithEvent(this.deps.db, m, event.name, event.payload),
    );
    return stored && withEnvelope(stored);
  }

  /**
   * An outgoing 1:1 message was delivered/displayed (XEP-0184/0333): marks it and stores the receipt event,
   * in one statement. Undefined when there is no such message or it already had that status.
   */
  async receipt(
    owner: string,
    peer: string,
    messageId: string,
    status: 'delivered' | 'displayed',
    from: string,
    name: EventName,
  ): Promise<DeliveredEvent | undefined> {
    const stored = await this.deps.hub.ordered(owner, async (): Promise<StoredEvent | undefined> => {
      const { rows } = await this.deps.db.query<{
        id: string;
        name: EventName;
        payload: Payload;
        created_at: Date;
      }>({
        name: `parley-receipt-${status}`,
        text: `WITH o AS (UPDATE messages SET ${status === 'delivered' ? 'delivered_at = now()' : 'displayed_at = now(), delivered_at = coalesce(delivered_at, now())'}
                          WHERE owner = $1 AND peer = $2 AND direction = 'out' AND message_id = $3 AND kind <> 'groupchat'
                            AND ${status === 'delivered' ? 'delivered_at' : 'displayed_at'} IS NULL
                          RETURNING event_id)
               INSERT INTO events (username, name, payload)
               SELECT $1, $6, jsonb_build_object('type', 'receipt', 'status', $4::text, 'from', $5::text, 'messageId', o.event_id::text, 'stanzaId', $3::text)
               FROM o RETURNING id, name, payload, created_at`,
        values: [owner, peer, messageId, status, from, name],
      });
      const r = rows[0];
      return r && { id: String(r.id), name: r.name, payload: r.payload, createdAt: r.created_at };
    });
    return stored && withEnvelope(stored);
  }

  /** The newest archive id and time Parley holds for a user's 1:1 archive (the MAM catch-up cursor). */
  async archiveCursor(owner: string): Promise<{ stanzaId: string; sentAt: Date } | undefined> {
    const { rows } = await this.deps.db.query<{ stanza_id: string; sent_at: Date }>(
      `SELECT stanza_id, sent_at FROM messages WHERE owner = $1 AND kind <> 'groupchat' AND stanza_id IS NOT NULL
       ORDER BY sent_at DESC, id DESC LIMIT 1`,
      [owner],
    );
    return rows[0] && { stanzaId: rows[0].stanza_id, sentAt: rows[0].sent_at };
  }

  /** An incoming 1:1 message by its event id or XMPP id. */
  async findIncoming(
    owner: string,
    peer: string,
    ref: string,
  ): Promise<{ rowId: string; messageId: string | null; eventId: string } | undefined> {
    const byEvent = /^\d{1,18}$/.test(ref);
    const { rows } = await this.deps.db.query<{ id: string; message_id: string | null; event_id: string }>(
      `SELECT id, message_id, event_id FROM messages WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
         AND ${byEvent ? 'event_id = $3::bigint' : 'message_id = $3'}`,
      [owner, peer, ref],
    );
    return (
      rows[0] && {
        rowId: String(rows[0].id),
        messageId: rows[0].message_id,
        eventId: String(rows[0].event_id),
      }
    );
  }

  /** Marks every incoming message from `peer` up to row `uptoRowId` as read; returns how many changed. */
  async markRead(owner: string, peer: string, uptoRowId: string): Promise<number> {
    const res = await this.deps.db.query(
      `UPDATE messages SET displayed_at = now() WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
         AND displayed_at IS NULL AND id <= $3`,
      [owner, peer, uptoRowId],
    );
    return res.rowCount ?? 0;
  }

  async unread(owner: string): Promise<{ jid: string; count: number }[]> {
    const { rows } = await this.deps.db.query<{ peer: string; n: string }>(
      `SELECT peer, count(*) AS n FROM messages WHERE owner = $1 AND direction = 'in' AND displayed_at IS NULL AND kind <> 'groupchat'
       GROUP BY peer ORDER BY peer`,
      [owner],
    );
    return rows.map((r) => ({ jid: r.peer, count: Number(r.n) }));
  }
}
