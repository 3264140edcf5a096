import { bareJid } from '../xmpp/jid.js';
import type { TimedDb } from '../store/TimedDb.js';
import { keysetPage, keysetSql, SqlArgs } from '../store/cursorPage.js';
import type { AdminMessageLog } from './MessageLog.js';
import type { AdminMessage, AdminQuery } from './types.js';

/*
 * The admin's view of stored chat history, across 1:1 and rooms, each message once.
 *
 * `messages` keeps one row per owner (src/store/migrations/0002_messages.sql): a 1:1 message between two
 * Parley users is stored twice (the sender's `out` row and the recipient's `in` row), a room message
 * once per Parley occupant. Copies are folded by a key that is the same for every copy:
 *   1:1   — sender bare JID | recipient bare JID | the stanza's id attribute (the server keeps it);
 *   room  — room | the room's XEP-0359 stanza-id, else nick/message id (as room history does).
 * The sender's own copy (`out`) stands for the message when there is one (its time is the send time),
 * else the oldest copy. Its row id is the message's id in these views and the page cursor, so pages
 * follow the order Parley stored messages in (for a dialogue of two Parley users: send order).
 */

const BARE = (col: string) => `split_part(${col}, '/', 1)`;
/** Never NULL (NOT NULL would drop rows from `hasAttachments=false`). XEP-0066 URLs arrive as `data.url`/`data.attachments` (ofchat JSON) or as an aesgcm/https link alone in the body. */
export const ATTACHMENT_SQL = `(coalesce(data ? 'url' OR data ? 'attachments' OR data ? 'oob', false) OR coalesce(body ~ '^(https?|aesgcm)://\\S+$', false))`;
const KEY = `CASE WHEN kind = 'groupchat'
  THEN 'g|' || peer || '|' || coalesce(stanza_id, coalesce(nick, '') || '/' || message_id, id::text)
  ELSE 'c|' || ${BARE('from_jid')} || '|' || ${BARE('to_jid')} || '|' || coalesce(message_id, 'row' || id::text) END`;

interface Row {
  id: string;
  kind: string;
  from_jid: string;
  to_jid: string;
  peer: string;
  nick: string | null;
  body: string | null;
  data: unknown;
  message_id: string | null;
  stanza_id: string | null;
  sent_at: Date;
  attachments: boolean;
}

/** Filters hold for every copy of a message alike, so they run before the copies are folded. */
function filters(q: AdminQuery, args: SqlArgs): string[] {
  const where = ['event_id IS NOT NULL'];
  if (q.user && q.peer) {
    const [u, p] = [args.add(q.user), args.add(q.peer)];
    where.push(
      `kind <> 'groupchat'`,
      `((${BARE('from_jid')} = ${u} AND ${BARE('to_jid')} = ${p}) OR (${BARE('from_jid')} = ${p} AND ${BARE('to_jid')} = ${u}))`,
    );
  } else if (q.user) {
    const u = args.add(q.user);
    // In rooms the sender's real JID is hidden (nick only); their own stored copy is what Parley knows.
    where.push(`((kind <> 'groupchat' AND (${BARE('from_jid')} = ${u} OR ${BARE('to_jid')} = ${u}))
      OR (kind = 'groupchat' AND direction = 'out' AND owner || '@' || split_part(${u}, '@', 2) = ${u}))`);
  }
  if (q.room) where.push(`kind = 'groupchat'`, `peer = ${args.add(q.room)}`);
  if (q.hasAttachments !== undefined) where.push(q.hasAttachments ? ATTACHMENT_SQL : `NOT ${ATTACHMENT_SQL}`);
  if (q.start) where.push(`sent_at >= ${args.add(q.start)}`);
  if (q.end) where.push(`sent_at <= ${args.add(q.end)}`);
  return where;
}

export function toAdminMessage(r: Row): AdminMessage {
  const room = r.kind === 'groupchat' ? r.peer : null;
  return {
    id: String(r.id),
    type: r.kind,
    from: r.from_jid,
    to: r.kind === 'groupchat' ? r.peer : bareJid(r.to_jid),
    room,
    nick: r.nick,
    body: r.body,
    data: r.data ?? null,
    stanzaId: r.message_id,
    archiveId: r.stanza_id,
    hasAttachments: r.attachments,
    timestamp: r.sent_at.toISOString(),
  };
}

export function createPgAdminLog(db: TimedDb): AdminMessageLog {
  return {
    async adminPage(q) {
      const args = new SqlArgs();
      const where = filters(q, args);
      const page = keysetSql('id', q, args);
      const { rows } = await db.run<Row>(
        {
          name: 'admin_history',
          text: `SELECT * FROM (
                   SELECT DISTINCT ON (k) id, kind, from_jid, to_jid, peer, nick, body, data, message_id, stanza_id, sent_at, ${ATTACHMENT_SQL} AS attachments
                     FROM (SELECT *, ${KEY} AS k FROM messages WHERE ${where.join(' AND ')}) copies
                    ORDER BY k, (direction = 'out') DESC, id) folded
                 ${page.where.length ? `WHERE ${page.where.join(' AND ')}` : ''} ${page.orderLimit}`,
        },
        args.values,
      );
      const p = keysetPage(rows, q, page.forward, toAdminMessage, (m) => m.id);
      return {
        messages: p.items,
        page: { limit: q.limit, hasMore: p.hasMore, before: p.before, after: p.after },
      };
    },

    async deleteMessage(id, then) {
      return db.transaction(async (tx) => {
        // Unqualified columns in KEY resolve to `m`: `target` has only `k`.
        const { rows } = await db.run<Row & { event_id: string | null }>(
          {
            name: 'message_copies',
            text: `WITH target AS (SELECT ${KEY} AS k FROM messages WHERE id = $1)
                   SELECT m.*, ${ATTACHMENT_SQL} AS attachments FROM messages m, target WHERE ${KEY} = target.k`,
          },
          [id],
          tx,
        );
        const shown = rows.find((r) => String(r.id) === id);
        if (!shown) return undefined;
        const rowIds = rows.map((r) => String(r.id));
        const eventIds = rows.flatMap((r) => (r.event_id ? [String(r.event_id)] : []));
        await db.run(
          { name: 'message_delete', text: 'DELETE FROM messages WHERE id = ANY($1::bigint[])' },
          [rowIds],
          tx,
        );
        await db.run(
          {
            name: 'event_blank',
            text: `UPDATE events SET payload = payload - 'data' || '{"body": null, "deleted": true}'::jsonb WHERE id = ANY($1::bigint[])`,
          },
          [eventIds],
          tx,
        );
        return then({ message: toAdminMessage(shown), copies: rowIds.length }, tx);
      });
    },

    async ownedByEventIds(owner, eventIds) {
      if (!eventIds.length) return [];
      const { rows } = await db.run<{
        event_id: string;
        kind: string;
        from_jid: string;
        to_jid: string;
        peer: string;
        body: string | null;
        data: unknown;
        message_id: string | null;
        stanza_id: string | null;
        sent_at: Date;
      }>(
        {
          name: 'owned_by_event_ids',
          text: `SELECT event_id, kind, from_jid, to_jid, peer, body, data, message_id, stanza_id, sent_at FROM messages
                   WHERE owner = $1 AND event_id = ANY($2::bigint[]) ORDER BY event_id`,
        },
        [owner, eventIds],
      );
      return rows.map((r) => ({
        id: String(r.event_id),
        type: r.kind,
        from: r.from_jid,
        to: r.to_jid,
        peer: r.peer,
        body: r.body,
        data: r.data ?? null,
        stanzaId: r.message_id,
        archiveId: r.stanza_id,
        timestamp: r.sent_at.toISOString(),
      }));
    },

    async newestRowId() {
      const { rows } = await db.run<{ m: string }>({
        name: 'message_newest_row',
        text: 'SELECT coalesce(max(id), 0) AS m FROM messages',
      });
      return Number(rows[0]!.m);
    },

    async rowsAfter(afterId, limit) {
      const { rows } = await db.run<Row & { owner: string; direction: string }>(
        {
          name: 'message_rows_after',
          text: `SELECT id, owner, kind, direction, from_jid, to_jid, peer, nick, body, data, message_id, stanza_id, sent_at, ${ATTACHMENT_SQL} AS attachments
                   FROM messages WHERE id > $1 AND event_id IS NOT NULL ORDER BY id LIMIT $2`,
        },
        [afterId, limit],
      );
      return rows.map((r) => ({
        id: String(r.id),
        owner: r.owner,
        kind: r.kind,
        direction: r.direction,
        fromJid: r.from_jid,
        toJid: r.to_jid,
        peer: r.peer,
        nick: r.nick,
        body: r.body,
        data: r.data,
        messageId: r.message_id,
        stanzaId: r.stanza_id,
        sentAt: r.sent_at,
        hasAttachments: r.attachments,
      }));
    },

    async attachmentMessages(q) {
      const args = new SqlArgs();
      const where = [`jsonb_typeof(e.payload->'attachments') = 'array'`];
      if (q.owner) where.push(`m.owner = ${args.add(q.owner)}`);
      const page = keysetSql('m.event_id', { before: q.before, limit: q.limit }, args);
      const { rows } = await db.run<{
        event_id: string;
        owner: string;
        kind: string;
        direction: string;
        from_jid: string;
        to_jid: string;
        peer: string;
        body: string | null;
        sent_at: Date;
        attachments: unknown[];
      }>(
        {
          name: 'attachment_messages',
          text: `SELECT m.event_id, m.owner, m.kind, m.direction, m.from_jid, m.to_jid, m.peer, m.body, m.sent_at, e.payload->'attachments' AS attachments
                   FROM messages m JOIN events e ON e.id = m.event_id WHERE ${[...where, ...page.where].join(' AND ')} ${page.orderLimit}`,
        },
        args.values,
      );
      const p = keysetPage(
        rows,
        q,
        page.forward,
        (r) => ({
          id: String(r.event_id),
          owner: r.owner,
          type: r.kind,
          direction: r.direction,
          from: r.from_jid,
          to: r.to_jid,
          ...(r.kind === 'groupchat' ? { room: r.peer } : {}),
          body: r.body,
          timestamp: r.sent_at.toISOString(),
          attachments: r.attachments,
        }),
        (m) => m.id,
        'newest-first',
      );
      return { messages: p.items, page: { limit: q.limit, hasMore: p.hasMore, before: p.before } };
    },
  };
}
