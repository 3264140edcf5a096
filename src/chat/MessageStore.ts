import type pg from 'pg';
import { withTransaction } from '../store/db.js';
import type { EventHub } from '../sse/EventHub.js';
import { withEnvelope } from '../sse/EventHub.js';
import type { DeliveredEvent, EventName, Payload } from '../sse/events.js';

/** A 1:1 or room message as Parley keeps it (one row per owner, i.e. per Parley user who has it). */
export interface MessageRow {
  owner: string; kind: 'chat' | 'normal' | 'groupchat'; direction: 'in' | 'out'; peer: string; nick?: string;
  fromJid: string; toJid: string; body?: string; subject?: string; data?: unknown;
  messageId?: string; stanzaId?: string; sentAt?: Date;
}

export interface StoredMessage { rowId: string; event: DeliveredEvent }

/**
 * Message rows and their SSE event, written in one transaction so history and replay always agree.
 * A message already stored (same archive id or same sender id) is skipped: live delivery, carbons
 * and MAM catch-up of one message end up as one row and one event.
 */
export class MessageStore {
  constructor(private readonly deps: { db: pg.Pool; hub: EventHub }) {}

  /** Stores row + event; undefined when it was a duplicate. The caller delivers `event` afterwards. */
  async insert(
    m: MessageRow,
    event: { name: EventName; payload: (rowId: string) => Payload },
    /** runs after the rows are written and before COMMIT: throwing undoes the insert */
    beforeCommit?: () => Promise<void>,
  ): Promise<StoredMessage | undefined> {
    return withTransaction(this.deps.db, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO messages (owner, kind, direction, peer, nick, from_jid, to_jid, body, subject, data, message_id, stanza_id, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13, now()))
         ON CONFLICT DO NOTHING RETURNING id`,
        [m.owner, m.kind, m.direction, m.peer, m.nick ?? null, m.fromJid, m.toJid, m.body ?? null, m.subject ?? null,
          m.data === undefined ? null : JSON.stringify(m.data), m.messageId ?? null, m.stanzaId ?? null, m.sentAt ?? null]);
      const row = rows[0];
      if (!row) return undefined;
      const stored = await this.deps.hub.store.insert(m.owner, event.name, event.payload(String(row.id)), tx);
      await tx.query('UPDATE messages SET event_id = $2 WHERE id = $1', [row.id, stored.id]);
      await beforeCommit?.();
      return { rowId: String(row.id), event: withEnvelope(stored) };
    });
  }

  /** The newest archive id and time Parley holds for a user's 1:1 archive (the MAM catch-up cursor). */
  async archiveCursor(owner: string): Promise<{ stanzaId: string; sentAt: Date } | undefined> {
    const { rows } = await this.deps.db.query<{ stanza_id: string; sent_at: Date }>(
      `SELECT stanza_id, sent_at FROM messages WHERE owner = $1 AND kind <> 'groupchat' AND stanza_id IS NOT NULL
       ORDER BY sent_at DESC, id DESC LIMIT 1`, [owner]);
    return rows[0] && { stanzaId: rows[0].stanza_id, sentAt: rows[0].sent_at };
  }

  /** An outgoing message of `owner` to `peer` by its XMPP id (for receipts and markers). */
  async findOutgoing(owner: string, peer: string, messageId: string): Promise<{ rowId: string; eventId: string | null } | undefined> {
    const { rows } = await this.deps.db.query<{ id: string; event_id: string | null }>(
      `SELECT id, event_id FROM messages WHERE owner = $1 AND peer = $2 AND direction = 'out' AND message_id = $3 AND kind <> 'groupchat'`,
      [owner, peer, messageId]);
    return rows[0] && { rowId: String(rows[0].id), eventId: rows[0].event_id && String(rows[0].event_id) };
  }

  /** Marks an outgoing message delivered/displayed; false when it already had that status. */
  async markOutgoing(rowId: string, status: 'delivered' | 'displayed'): Promise<boolean> {
    const sql = status === 'delivered'
      ? 'UPDATE messages SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL'
      : 'UPDATE messages SET displayed_at = now(), delivered_at = coalesce(delivered_at, now()) WHERE id = $1 AND displayed_at IS NULL';
    const res = await this.deps.db.query(sql, [rowId]);
    return (res.rowCount ?? 0) > 0;
  }

  /** An incoming 1:1 message by its event id or XMPP id. */
  async findIncoming(owner: string, peer: string, ref: string): Promise<{ rowId: string; messageId: string | null; eventId: string } | undefined> {
    const byEvent = /^\d{1,18}$/.test(ref);
    const { rows } = await this.deps.db.query<{ id: string; message_id: string | null; event_id: string }>(
      `SELECT id, message_id, event_id FROM messages WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
         AND ${byEvent ? 'event_id = $3::bigint' : 'message_id = $3'}`, [owner, peer, ref]);
    return rows[0] && { rowId: String(rows[0].id), messageId: rows[0].message_id, eventId: String(rows[0].event_id) };
  }

  /** Marks every incoming message from `peer` up to row `uptoRowId` as read; returns how many changed. */
  async markRead(owner: string, peer: string, uptoRowId: string): Promise<number> {
    const res = await this.deps.db.query(
      `UPDATE messages SET displayed_at = now() WHERE owner = $1 AND peer = $2 AND direction = 'in' AND kind <> 'groupchat'
         AND displayed_at IS NULL AND id <= $3`, [owner, peer, uptoRowId]);
    return res.rowCount ?? 0;
  }

  async unread(owner: string): Promise<{ jid: string; count: number }[]> {
    const { rows } = await this.deps.db.query<{ peer: string; n: string }>(
      `SELECT peer, count(*) AS n FROM messages WHERE owner = $1 AND direction = 'in' AND displayed_at IS NULL AND kind <> 'groupchat'
       GROUP BY peer ORDER BY peer`, [owner]);
    return rows.map((r) => ({ jid: r.peer, count: Number(r.n) }));
  }
}
