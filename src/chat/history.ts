import type { Queryable } from '../store/db.js';
import { BridgeError } from '../errors/BridgeError.js';

/**
 * History search with ofchat's query (keywords, to, start, end, room, service) plus cursor pages.
 * Dates are ISO 8601 or ofchat's MM/dd/yy (a whole day, UTC). Keywords use Postgres full-text search
 * (websearch syntax: words, "phrases", -exclusions).
 */
export interface HistoryQuery {
  owner: string;
  peer?: string;
  room?: string;
  keywords?: string;
  start?: Date;
  end?: Date;
  before?: string;
  after?: string;
  limit: number;
}

export interface HistoryItem {
  id: string;
  type: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  body: string | null;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  timestamp: string;
  room?: string;
  nick?: string;
  delivered: boolean;
  displayed: boolean;
  attachments?: unknown[];
}

export interface HistoryPage {
  messages: HistoryItem[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}

/** `MM/dd/yy` (ofchat) or ISO; `edge` picks the start or end of an ofchat day. */
export function parseHistoryDate(raw: string, edge: 'start' | 'end', name: string): Date {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(raw.trim());
  let d: Date;
  if (m) {
    const year = m[3]!.length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    d = new Date(Date.UTC(year, Number(m[1]) - 1, Number(m[2])));
    if (d.getUTCMonth() !== Number(m[1]) - 1)
      throw new BridgeError('VALIDATION_FAILED', `${name}: "${raw}" is not a date`, {
        errors: [{ path: `query.${name}`, message: 'not a date' }],
      });
    if (edge === 'end') d = new Date(d.getTime() + 86_400_000 - 1);
  } else {
    d = new Date(raw);
  }
  if (Number.isNaN(d.getTime())) {
    throw new BridgeError('VALIDATION_FAILED', `${name}: "${raw}" is neither ISO 8601 nor MM/dd/yy`, {
      errors: [{ path: `query.${name}`, message: 'expected ISO 8601 or MM/dd/yy' }],
    });
  }
  return d;
}

interface Row {
  event_id: string;
  kind: string;
  direction: 'in' | 'out';
  from_jid: string;
  to_jid: string;
  body: string | null;
  data: unknown;
  message_id: string | null;
  stanza_id: string | null;
  sent_at: Date;
  peer: string;
  nick: string | null;
  delivered_at: Date | null;
  displayed_at: Date | null;
  attachments: unknown;
}

export async function queryHistory(db: Queryable, q: HistoryQuery): Promise<HistoryPage> {
  const where = ['owner = $1', 'event_id IS NOT NULL'];
  const args: unknown[] = [q.owner];
  const arg = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  if (q.room) {
    where.push(`kind = 'groupchat'`, `peer = ${arg(q.room)}`);
  } else if (q.peer) {
    where.push(`kind <> 'groupchat'`, `peer = ${arg(q.peer)}`);
  }
  if (q.keywords) where.push(`search @@ websearch_to_tsquery('simple', ${arg(q.keywords)})`);
  if (q.start) where.push(`sent_at >= ${arg(q.start)}`);
  if (q.end) where.push(`sent_at <= ${arg(q.end)}`);
  if (q.after) where.push(`event_id > ${arg(q.after)}`);
  if (q.before) where.push(`event_id < ${arg(q.before)}`);
  // Without `after`, the newest page (walking back with `before`); with it, forward from the cursor.
  const newestFirst = !q.after;
  const { rows } = await db.query<Row>(
    `SELECT event_id, kind, direction, from_jid, to_jid, body, data, message_id, stanza_id, sent_at, peer, nick, delivered_at, displayed_at,
            (SELECT e.payload->'attachments' FROM events e WHERE e.id = messages.event_id) AS attachments
       FROM messages WHERE ${where.join(' AND ')} ORDER BY event_id ${newestFirst ? 'DESC' : 'ASC'} LIMIT ${arg(q.limit + 1)}`,
    args,
  );
  const hasMore = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  if (newestFirst) page.reverse();
  const messages = page.map(toItem);
  return {
    messages,
    page: { limit: q.limit, hasMore, before: messages[0]?.id ?? null, after: messages.at(-1)?.id ?? null },
  };
}

function toItem(r: Row): HistoryItem {
  return {
    id: String(r.event_id),
    type: r.kind,
    direction: r.direction,
    from: r.from_jid,
    to: r.to_jid,
    body: r.body,
    data: r.data ?? null,
    stanzaId: r.message_id,
    archiveId: r.stanza_id,
    timestamp: r.sent_at.toISOString(),
    ...(r.kind === 'groupchat' ? { room: r.peer, ...(r.nick ? { nick: r.nick } : {}) } : {}),
    delivered: r.delivered_at !== null,
    displayed: r.displayed_at !== null,
    // attachments live in the message's event (one source for replay and history)
    ...(Array.isArray(r.attachments) && r.attachments.length ? { attachments: r.attachments } : {}),
  };
}
