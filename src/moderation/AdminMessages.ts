import type { Queryable } from '../store/db.js';
import { bareJid } from '../xmpp/jid.js';

/**
 * The admin's view of stored chat history, across 1:1 and rooms, each message once.
 *
 * `messages` keeps one row per owner (src/store/migrations/0002_messages.sql): a 1:1 message between two
 * Parley users is stored twice (the sender's `out` row and the recipient's `in` row), a room message
 * once per Parley occupant. Copies are folded by a key that is the same for every copy:
 *   1:1   — sender bare JID | recipient bare JID | the stanza's id attribute (the server keeps it);
 *   room  — room | the room's XEP-0359 stanza-id, else nick/message id (as RoomStore does).
 * The sender's own copy (`out`) stands for the message when there is one (its time is the send time),
 * else the oldest copy. Its row id is the message's id in these views and the page cursor, so pages
 * follow the order Parley stored messages in (for a dialogue of two Parley users: send order).
 */
export interface AdminQuery {
  /** messages this user (bare JID) sent or received 1:1, and room messages they sent through Parley */
  user?: string;
  /** with `user`: only the dialogue with this bare JID */
  peer?: string;
  /** only this room (bare JID) */
  room?: string;
  hasAttachments?: boolean;
  start?: Date;
  end?: Date;
  before?: string;
  after?: string;
  limit: number;
}

export interface AdminMessage {
  id: string;
  type: string;
  from: string;
  to: string;
  room: string | null;
  nick: string | null;
  body: string | null;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  hasAttachments: boolean;
  timestamp: string;
}

export interface AdminMessagePage {
  messages: AdminMessage[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}

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
function filters(q: AdminQuery, arg: (v: unknown) => string): string[] {
  const where = ['event_id IS NOT NULL'];
  if (q.user && q.peer) {
    const [u, p] = [arg(q.user), arg(q.peer)];
    where.push(
      `kind <> 'groupchat'`,
      `((${BARE('from_jid')} = ${u} AND ${BARE('to_jid')} = ${p}) OR (${BARE('from_jid')} = ${p} AND ${BARE('to_jid')} = ${u}))`,
    );
  } else if (q.user) {
    const u = arg(q.user);
    // In rooms the sender's real JID is hidden (nick only); their own stored copy is what Parley knows.
    where.push(`((kind <> 'groupchat' AND (${BARE('from_jid')} = ${u} OR ${BARE('to_jid')} = ${u}))
      OR (kind = 'groupchat' AND direction = 'out' AND owner || '@' || split_part(${u}, '@', 2) = ${u}))`);
  }
  if (q.room) where.push(`kind = 'groupchat'`, `peer = ${arg(q.room)}`);
  if (q.hasAttachments !== undefined) where.push(q.hasAttachments ? ATTACHMENT_SQL : `NOT ${ATTACHMENT_SQL}`);
  if (q.start) where.push(`sent_at >= ${arg(q.start)}`);
  if (q.end) where.push(`sent_at <= ${arg(q.end)}`);
  return where;
}

export async function queryAdminMessages(db: Queryable, q: AdminQuery): Promise<AdminMessagePage> {
  const args: unknown[] = [];
  const arg = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  const where = filters(q, arg);
  const cursor: string[] = [];
  if (q.after) cursor.push(`id > ${arg(q.after)}`);
  if (q.before) cursor.push(`id < ${arg(q.before)}`);
  const ascending = q.after !== undefined && q.before === undefined;
  const { rows } = await db.query<Row>(
    `SELECT * FROM (
       SELECT DISTINCT ON (k) id, kind, from_jid, to_jid, peer, nick, body, data, message_id, stanza_id, sent_at, ${ATTACHMENT_SQL} AS attachments
         FROM (SELECT *, ${KEY} AS k FROM messages WHERE ${where.join(' AND ')}) copies
        ORDER BY k, (direction = 'out') DESC, id) folded
     ${cursor.length ? `WHERE ${cursor.join(' AND ')}` : ''}
     ORDER BY id ${ascending ? 'ASC' : 'DESC'} LIMIT ${arg(q.limit + 1)}`,
    args,
  );
  const hasMore = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  if (!ascending) page.reverse();
  const messages = page.map(toAdminMessage);
  return {
    messages,
    page: { limit: q.limit, hasMore, before: messages[0]?.id ?? null, after: messages.at(-1)?.id ?? null },
  };
}

/** Every copy of one message (by the id of the copy the views show), for deletion. */
export async function copiesOf(
  db: Queryable,
  id: string,
): Promise<{ rowIds: string[]; eventIds: string[]; message?: AdminMessage }> {
  // Unqualified columns in KEY resolve to `m`: `target` has only `k`.
  const { rows } = await db.query<Row & { event_id: string | null }>(
    `WITH target AS (SELECT ${KEY} AS k FROM messages WHERE id = $1)
     SELECT m.*, ${ATTACHMENT_SQL} AS attachments FROM messages m, target WHERE ${KEY} = target.k`,
    [id],
  );
  const shown = rows.find((r) => String(r.id) === id);
  return {
    rowIds: rows.map((r) => String(r.id)),
    eventIds: rows.flatMap((r) => (r.event_id ? [String(r.event_id)] : [])),
    message: shown && toAdminMessage(shown),
  };
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
